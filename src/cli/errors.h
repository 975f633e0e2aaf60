// How a failed command is shown: one stderr line "tether: <message> [<reason>]", and with --json
// also {"error":{"code":"<reason>","message":"..."}} on stdout. The exit code comes from
// exit_code_for (cli/exit_code.h) and nowhere else.
#pragma once

#include <span>
#include <string>

#include "common/error.h"

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace tether::cli {

// Shows the error and returns the exit code.
int report_failure(const Error& error, bool json, bool outcome_printed);

// A command-line parse error (unknown flag or subcommand, bad or missing value) as an Error
// with Errc::invalid_argument, with "did you mean" when a registered name is close to what was
// typed. (Help and version requests are not errors; main lets CLI11 print them.)
Error parse_failure(CLI::App& app, const CLI::ParseError& e);

// The JSON error document, also used inside a rejection's JSON.
std::string error_json(const Error& error);

// Whether --json appears among the arguments (for errors raised before parsing finished).
bool json_requested(std::span<char*> args);

}  // namespace tether::cli

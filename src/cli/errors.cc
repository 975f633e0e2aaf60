#include "cli/errors.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <optional>
#include <string_view>

#include "cli/exit_code.h"
#include "cli/suggest.h"

namespace tether::cli {

namespace {

// The innermost subcommand the parser had reached, and its command path ("tether connector").
CLI::App* innermost(CLI::App& app, std::string& path) {
  CLI::App* current = &app;
  path = "tether";
  for (;;) {
    auto parsed = current->get_subcommands();
    if (parsed.empty()) return current;
    current = parsed.back();
    path += " " + current->get_name();
  }
}

std::vector<std::string> flag_names(CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app->get_options()) {
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
  }
  return names;
}

std::vector<std::string> subcommand_names(CLI::App* app) {
  std::vector<std::string> names;
  for (CLI::App* sub : app->get_subcommands(std::function<bool(CLI::App*)>{}))
    names.push_back(sub->get_name());
  return names;
}

// "did you mean" for the first left-over flag that resembles a registered one.
std::string flag_suggestion(CLI::App* app) {
  for (const auto& arg : app->remaining()) {
    if (!arg.starts_with("-")) continue;
    std::string typed = arg.substr(0, arg.find('='));
    if (auto near = closest_name(typed, flag_names(app)))
      return "; did you mean '" + *near + "' instead of '" + typed + "'?";
  }
  return "";
}

// A word where a subcommand was expected that names none: the message says so, with the
// closest name or the list of them.
std::optional<std::string> unknown_subcommand(CLI::App* app, const std::string& path) {
  auto names = subcommand_names(app);
  auto left = app->remaining();
  if (names.empty() || left.empty() || left.front().starts_with("-")) return std::nullopt;
  const std::string& typed = left.front();
  std::string message = "'" + path + "' has no subcommand '" + typed + "'";
  if (auto near = closest_name(typed, names)) return message + "; did you mean '" + *near + "'?";
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return message + " (one of: " + list + ")";
}

}  // namespace

std::string error_json(const Error& error) {
  return boost::json::serialize(
      boost::json::object{{"error", boost::json::object{{"code", std::string(error.reason())},
                                                        {"message", error.message}}}});
}

int report_failure(const Error& error, bool json, bool outcome_printed) {
  std::cout.flush();
  if (json && !outcome_printed) std::cout << error_json(error) << "\n" << std::flush;
  std::cerr << "tether: " << error.message << " [" << error.reason() << "]\n";
  return exit_code_for(error.code);
}

Error parse_failure(CLI::App& app, const CLI::ParseError& e) {
  std::string path;
  CLI::App* at = innermost(app, path);
  std::string message;
  if (auto unknown = unknown_subcommand(at, path)) {
    message = *unknown;
  } else {
    message = e.what();
    while (!message.empty() && (message.back() == '\n' || message.back() == '.'))
      message.pop_back();
    message += flag_suggestion(at);
  }
  message += "; see '" + path + " --help'";
  return make_error(Errc::invalid_argument, message);
}

bool json_requested(std::span<char*> args) {
  for (const char* a : args) {
    if (a != nullptr && std::string_view(a) == "--json") return true;
  }
  return false;
}

}  // namespace tether::cli

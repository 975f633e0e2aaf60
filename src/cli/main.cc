// tether: the command line. Each subcommand lives in its own *_cmd.cc file.
#include <CLI/CLI.hpp>
#include <iostream>
#include <span>

#include "cli/context.h"
#include "cli/errors.h"

int main(int argc, char** argv) {
  using namespace tether::cli;
  CLI::App app{"tether: a mutual-TLS connector platform with its own private CA"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tether 0.1.0");
  GlobalOptions options;
  add_ca_commands(app, options);
  add_tenant_commands(app, options);
  add_connector_commands(app, options);
  add_crl_command(app, options);
  add_cert_commands(app, options);
  add_audit_commands(app, options);
  add_gateway_command(app);
  add_server_command(app, options);
  std::span<char*> args(argv, static_cast<size_t>(argc));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive as ParseErrors with exit code 0.
    if (e.get_exit_code() == 0) return app.exit(e);
    return report_failure(parse_failure(app, e), json_requested(args), false);
  } catch (const CommandError& e) {
    return report_failure(e.error, options.json || json_requested(args), e.outcome_printed);
  } catch (const std::exception& e) {
    std::cerr << "tether: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
  return 0;
}

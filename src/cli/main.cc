// tether: the command line. Each subcommand lives in its own *_cmd.cc file.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/context.h"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  } catch (const CommandError& e) {
    std::cerr << "tether: " << e.error.message << " [" << e.error.reason() << "]\n";
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "tether: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
  return 0;
}

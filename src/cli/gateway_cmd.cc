// tether gateway --config FILE.toml: runs the mTLS gateway in the foreground.
#include <CLI/CLI.hpp>

#include "cli/context.h"
#include "gateway/gateway.h"

namespace tether::cli {

void add_gateway_command(CLI::App& app) {
  auto* gateway = app.add_subcommand(
      "gateway",
      "run the mTLS gateway (JSON log lines on stdout; SIGHUP or a changed file reloads "
      "certificates, trust and routes; SIGTERM stops)");
  auto config = std::make_shared<std::string>();
  gateway->add_option("--config", *config, "gateway configuration (see deploy/)")->required();
  gateway->callback([config] {
    // Returns only when stopped by a signal, or when it cannot start (one line why; exit 2
    // for a config refused as given, 1 for a start that failed, e.g. a port in use).
    must(gateway::run_gateway(*config));
  });
}

}  // namespace tether::cli

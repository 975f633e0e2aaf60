// tether server --data DIR [--config server.toml]: the CA, the REST API and the gateway in one
// process (server/server.h). This file is the process around it: options, the passphrase,
// signals, and what it prints for the person who started it.
#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>

#include "cli/context.h"
#include "obs/log_sink.h"
#include "server/server.h"

namespace tether::cli {

namespace {

void print_banner(const server::Server& s, const server::ServerReady& ready) {
  const auto& p = s.paths();
  std::string api = "https://localhost:" + std::to_string(ready.api_port);
  std::string gw = "https://localhost:" + std::to_string(ready.gateway_port);
  std::ostream& out = std::cerr;
  out << "\ntether server is running (data: " << p.data_dir << ")\n"
      << "  API:      " << api << "/v1   (OpenAPI document: " << api << "/v1/openapi.json)\n"
      << "  gateway:  " << gw << "   (route /whoami answers with your identity)\n"
      << "  ca.pem:   " << p.ca_pem << "   (the trust anchor of both)\n"
      << "  operator: client certificate in " << p.admin_dir << "/\n";
  if (ready.one_time_password) {
    out << "  login:    user \"admin\", one-time password " << *ready.one_time_password
        << "\n            (shown once; POST /v1/login, then change it with POST /v1/password)\n";
  }
  out << std::endl;
}

}  // namespace

void add_server_command(CLI::App& app, GlobalOptions& options) {
  auto* cmd = app.add_subcommand(
      "server",
      "run the CA, the REST API and the gateway in one process (JSON log lines on stdout; "
      "SIGTERM stops)");
  add_data_option(cmd, options);
  add_passphrase_option(cmd, options);
  auto config = std::make_shared<std::string>();
  cmd->add_option("--config", *config, "server configuration (see deploy/server.example.toml)");
  cmd->callback([&options, config] {
    std::signal(SIGPIPE, SIG_IGN);
    server::ServerStart start{resolve_data_dir(options), *config, std::nullopt};
    std::string passphrase = read_passphrase(options);
    bool given = !options.passphrase_file.empty() || std::getenv("TETHER_CA_PASSPHRASE") ||
                 std::getenv("TETHER_CA_PASSPHRASE_FILE");
    if (given) start.passphrase = passphrase;
    OPENSSL_cleanse(passphrase.data(), passphrase.size());
    auto made = server::Server::create(std::move(start));
    if (start.passphrase) OPENSSL_cleanse(start.passphrase->data(), start.passphrase->size());
    auto s = must(std::move(made));
    auto ready = must(s->start());
    print_banner(*s, ready);
    boost::asio::io_context signals_io;
    boost::asio::signal_set stop_signals(signals_io, SIGINT, SIGTERM);
    stop_signals.async_wait([&](boost::system::error_code ec, int signal) {
      if (ec) return;
      obs::log_event("stopping", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
      s->interrupt();
    });
    std::thread signal_thread([&] { signals_io.run(); });
    s->run();
    signals_io.stop();
    signal_thread.join();
    s->stop();
  });
}

}  // namespace tether::cli

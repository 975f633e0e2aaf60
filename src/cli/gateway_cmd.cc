// tether gateway --config FILE.toml: runs the mTLS gateway in the foreground. The gateway itself
// is a component (gateway/gateway.h); this file is the process around it: the config file and
// the files it names (watched for changes), the store it opens, signals and resource limits.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <functional>

#include "cli/context.h"
#include "gateway/file_watch.h"
#include "gateway/gateway.h"
#include "gateway/internal_upstream.h"
#include "obs/log_sink.h"
#include "store/open.h"

namespace tether::cli {

namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

constexpr std::chrono::seconds kWatchInterval{1};

std::vector<std::string> watched_files(const std::string& config_path,
                                       const gateway::Config& config) {
  std::vector<std::string> files{config_path, config.listener.server_cert,
                                 config.listener.server_key};
  files.insert(files.end(), config.listener.trust.begin(), config.listener.trust.end());
  for (auto& file : gateway::intermediate_files(config)) files.push_back(std::move(file));
  return files;
}

Result<std::unique_ptr<store::Store>> open_gateway_store(const std::string& path) {
  // Never created here: an empty store would mean an empty revocation set.
  auto opened = store::open(path);
  if (!opened && opened.error().code == Errc::not_found) {
    return make_error(Errc::io_error, "store.path '" + path +
                                          "' does not exist: point it at the tether.db of "
                                          "the CA whose connectors this gateway admits");
  }
  return opened;
}

std::vector<std::string> route_names(const gateway::Config& config) {
  std::vector<std::string> names;
  for (const auto& r : config.routes) names.push_back(r.name);
  return names;
}

// Every connection is a file descriptor (two when proxied): use all the hard limit allows, as
// nginx's worker_rlimit_nofile would, rather than the shell's default soft limit of 1024.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    obs::log_event("warning", {{"detail", "cannot raise the open file limit"}});
  }
}

// The gateway process: the component, the config file it was made from and the files that
// file names, reloaded on SIGHUP or when one of them changes.
class GatewayProcess {
 public:
  explicit GatewayProcess(std::string config_path) : config_path_(std::move(config_path)) {}

  Status run() {
    TETHER_ASSIGN_OR_RETURN(gateway::Config config, gateway::read_config_file(config_path_));
    metrics_ = std::make_unique<obs::GatewayMetrics>(route_names(config));
    TETHER_ASSIGN_OR_RETURN(auto store, open_gateway_store(config.store.path));
    // Started whether or not a route needs it now, so a reload may add an internal route.
    TETHER_TRY(whoami_.start());
    gateway::fill_internal_upstreams(config, whoami_);
    // A second handle for the thread that records what the handshakes saw (one handle per
    // thread is the SQLite adapter's rule).
    TETHER_ASSIGN_OR_RETURN(auto activity, open_gateway_store(config.store.path));
    watch_ = std::make_unique<gateway::FileWatch>(watched_files(config_path_, config));
    auto made = gateway::Gateway::create(
        std::move(config), {std::move(store), *metrics_, control_, std::move(activity)});
    if (!made.ok()) return from_config(std::move(made).error());
    gateway_ = std::move(made).value();
    TETHER_TRY(gateway_->start());

    asio::signal_set stop_signals(control_, SIGINT, SIGTERM);
    stop_signals.async_wait([this](error_code ec, int signal) {
      if (ec) return;
      obs::log_event("stopping", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
      control_.stop();
    });
    asio::signal_set hangup(control_, SIGHUP);
    std::function<void()> wait_hangup = [&] {
      hangup.async_wait([&](error_code ec, int) {
        if (ec) return;
        reload("SIGHUP");
        wait_hangup();
      });
    };
    wait_hangup();
    watch_tick();
    control_.run();
    gateway_->stop();
    return ok_status();
  }

 private:
  // A refusal of a setting, named with the file it came from (read_config_file's own errors
  // already name it).
  Error from_config(Error error) const {
    if (error.code == Errc::invalid_argument) error.message = config_path_ + ": " + error.message;
    return error;
  }

  void reload(std::string_view trigger) {
    auto config = gateway::read_config_file(config_path_);
    if (config.ok()) gateway::fill_internal_upstreams(*config, whoami_);
    Status applied = config.ok() ? gateway_->reload(*config, trigger) : Status(config.error());
    if (!applied.ok() && config.ok()) applied = from_config(std::move(applied).error());
    if (!applied.ok()) {
      obs::log_event("reload", {{"trigger", trigger},
                                {"outcome", "refused"},
                                {"error", applied.error().message},
                                {"detail", "the running configuration keeps serving"}});
      return;
    }
    watch_->reset(watched_files(config_path_, gateway_->running_config()));
  }

  void watch_tick() {
    watch_timer_.expires_after(kWatchInterval);
    watch_timer_.async_wait([this](error_code ec) {
      if (ec) return;
      if (watch_->changed()) reload("file_change");
      watch_tick();
    });
  }

  std::string config_path_;
  asio::io_context control_{1};
  asio::steady_timer watch_timer_{control_};
  gateway::WhoamiUpstream whoami_{control_};
  std::unique_ptr<obs::GatewayMetrics> metrics_;  // outlives gateway_
  std::unique_ptr<gateway::FileWatch> watch_;
  std::unique_ptr<gateway::Gateway> gateway_;
};

}  // namespace

void add_gateway_command(CLI::App& app) {
  auto* gateway = app.add_subcommand(
      "gateway",
      "run the mTLS gateway (JSON log lines on stdout; SIGHUP or a changed file reloads "
      "certificates, trust and routes; SIGTERM stops)");
  auto config = std::make_shared<std::string>();
  gateway->add_option("--config", *config, "gateway configuration (see deploy/)")->required();
  gateway->callback([config] {
    // Writes to a client that has gone away must fail with EPIPE, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    raise_open_file_limit();
    // Returns only when stopped by a signal, or when it cannot start (one line why; exit 2
    // for a config refused as given, 1 for a start that failed, e.g. a port in use).
    GatewayProcess process(*config);
    must(process.run());
  });
}

}  // namespace tether::cli

#include "gateway/gateway.h"

#include <malloc.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <csignal>
#include <thread>

#include "gateway/admin_server.h"
#include "gateway/file_watch.h"
#include "gateway/revocation_cache.h"
#include "gateway/snapshot.h"
#include "gateway/worker.h"
#include "net/listen_socket.h"
#include "obs/log_sink.h"
#include "store/open.h"

namespace tether::gateway {

namespace {

constexpr std::chrono::seconds kWatchInterval{1};
// Memory goes back to the system once this many connections closed since the high-water mark.
constexpr uint64_t kTrimAfterClosed = 256;
constexpr std::chrono::seconds kServerCertificateWarning{30 * 86400};

std::vector<std::string> watched_files(const std::string& config_path, const Config& config) {
  std::vector<std::string> files{config_path, config.listener.server_cert,
                                 config.listener.server_key};
  files.insert(files.end(), config.listener.trust.begin(), config.listener.trust.end());
  for (auto& file : intermediate_files(config)) files.push_back(std::move(file));
  return files;
}

Result<std::unique_ptr<store::Store>> open_store(const std::string& path) {
  // Never created here: an empty store would mean an empty revocation set.
  auto opened = store::open(path);
  if (!opened && opened.error().code == Errc::not_found) {
    return make_error(Errc::io_error, "store.path '" + path +
                                          "' does not exist: point it at the tether.db of "
                                          "the CA whose connectors this gateway admits");
  }
  return opened;
}

// The process: everything run_gateway starts, and the control loop (signals, reload, feed
// status) on the calling thread.
class Gateway {
 public:
  Gateway(std::string config_path, Config config)
      : config_path_(std::move(config_path)),
        running_config_(config),
        metrics_(route_names(config)),
        revocation_(std::make_shared<RevocationCache>(
            [this](const std::vector<std::string>& serials) { on_revoked(serials); })),
        shared_{metrics_, *revocation_, {}, {}, {}},
        sessions_(config.tls.session_cache_bytes),
        watch_(watched_files(config_path_, config)) {}

  Status run();

 private:
  static std::vector<std::string> route_names(const Config& config) {
    std::vector<std::string> names;
    for (const auto& r : config.routes) names.push_back(r.name);
    return names;
  }

  Status open_listeners(const Config& config);
  void on_revoked(const std::vector<std::string>& serials);
  void reload(std::string_view trigger);
  void watch_tick();
  void release_idle_memory();
  Status adopt_store_trust_domain(Config& config) const;
  void warn_if_server_certificate_expires_soon() const;
  void report_feed_status();
  std::string render_metrics() const;
  std::vector<OSSL_LIB_CTX*> libraries() const {
    std::vector<OSSL_LIB_CTX*> out;
    for (const auto& worker : workers_) out.push_back(worker->openssl_library());
    return out;
  }

  std::string config_path_;
  Config running_config_;
  obs::GatewayMetrics metrics_;
  std::shared_ptr<RevocationCache> revocation_;
  SharedState shared_;
  // Before the contexts that use it (current_, workers_), so it is destroyed after them.
  tls::SessionCache sessions_;
  std::shared_ptr<const Snapshot> current_;  // control thread only
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> workers_ready_{false};  // on_revoked may run before workers exist
  std::atomic<bool> ready_{false};
  asio::io_context control_{1};
  std::vector<std::unique_ptr<tcp::acceptor>> listeners_;  // the ports this process owns
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<RevocationPoller> poller_;
  FileWatch watch_;
  asio::steady_timer watch_timer_{control_};
  bool feed_down_ = false;
  uint64_t generation_ = 1;
  std::string store_trust_domain_;  // the CA's, from the store ("" for a store without one)
};

// The identities' trust domain is the CA's, recorded in the store: a gateway configured with
// another would refuse every connector of that CA, so the mismatch is refused up front.
Status Gateway::adopt_store_trust_domain(Config& config) const {
  if (store_trust_domain_.empty()) return ok_status();  // a store from before the setting
  if (!config.trust_domain_set) {
    config.trust_domain = store_trust_domain_;
    return ok_status();
  }
  if (config.trust_domain == store_trust_domain_) return ok_status();
  return make_error(Errc::invalid_argument,
                    config_path_ + ": trust_domain = \"" + config.trust_domain +
                        "\" differs from the CA's trust domain \"" + store_trust_domain_ +
                        "\" in store.path '" + config.store.path +
                        "': remove trust_domain from the config, or point store.path at that CA");
}

void Gateway::on_revoked(const std::vector<std::string>& serials) {
  if (!workers_ready_.load(std::memory_order_acquire)) return;  // nothing is connected yet
  for (auto& worker : workers_) worker->post_close_serials(serials);
}

Status Gateway::open_listeners(const Config& config) {
  // One listening socket per port, owned by this process (listen_socket.h); every worker
  // accepts from it.
  std::vector<uint16_t> ports{config.listener.port};
  for (uint16_t p : extra_listener_ports(config)) ports.push_back(p);
  for (size_t i = 0; i < ports.size(); ++i) {
    uint16_t port = ports[i];
    std::string port_setting = "listener.port";
    if (i > 0) {
      for (const Route& r : config.routes) {
        if (r.match.port == port) {
          port_setting = "route \"" + r.name + "\" match.port";
          break;
        }
      }
    }
    auto& listening = listeners_.emplace_back(std::make_unique<tcp::acceptor>(control_));
    TETHER_ASSIGN_OR_RETURN(
        port, net::listen_on(*listening, config.listener.address, port,
                             {.setting = "listener.address", .port_setting = port_setting}));
    for (auto& worker : workers_) TETHER_TRY(worker->adopt_listener(*listening, port));
    const Route* tcp_route = match_tcp_route(current_->routes, port);
    obs::log_event("listening", {{"listener", tcp_route ? "tcp" : "tls"},
                                 {"address", config.listener.address},
                                 {"port", port},
                                 {"route", tcp_route ? tcp_route->name : ""},
                                 {"workers", workers_.size()}});
  }
  return ok_status();
}

std::string Gateway::render_metrics() const {
  obs::GaugeSnapshot gauges;
  RevocationStatus status = revocation_->status();
  gauges.revoked_serials_loaded = status.loaded;
  gauges.revocation_feed_ok = status.last_error.empty();
  gauges.seconds_since_revocation_sync =
      status.last_sync_ms == 0
          ? -1
          : static_cast<double>(obs::unix_millis() - status.last_sync_ms) / 1000;
  gauges.server_certificate_not_after = current_->server_cert_not_after;
  gauges.session_cache = sessions_.stats();
  return metrics_.render_prometheus(gauges);
}

void Gateway::reload(std::string_view trigger) {
  auto refuse = [&](const Error& error) {
    obs::log_event("reload", {{"trigger", trigger},
                              {"outcome", "refused"},
                              {"error", error.message},
                              {"detail", "the running configuration keeps serving"}});
  };
  auto config = read_config_file(config_path_);
  if (!config.ok()) return refuse(config.error());
  if (auto s = adopt_store_trust_domain(*config); !s.ok()) return refuse(s.error());
  if (auto s = check_reloadable(running_config_, *config); !s.ok()) return refuse(s.error());
  auto snapshot = build_snapshot(*config, revocation_, metrics_, libraries(), &sessions_);
  if (!snapshot.ok()) return refuse(snapshot.error());
  current_ = *snapshot;
  running_config_ = std::move(config).value();
  // The cache is one for the process, so a new size applies in place: a smaller one evicts the
  // oldest sessions now, and 0 keeps no more (the new contexts still use the cache).
  sessions_.set_limit(running_config_.tls.session_cache_bytes);
  for (auto& worker : workers_) worker->post_snapshot(current_);
  watch_.reset(watched_files(config_path_, running_config_));
  ++generation_;
  obs::log_event("reload", {{"trigger", trigger},
                            {"outcome", "applied"},
                            {"generation", generation_},
                            {"routes", running_config_.routes.size()},
                            {"server_certificate_not_after", current_->server_cert_not_after}});
  warn_if_server_certificate_expires_soon();
}

// From 30 days before its expiry the server certificate is named in a warning at every start and
// reload (connector certificates get the same warning period).
void Gateway::warn_if_server_certificate_expires_soon() const {
  int64_t left = current_->server_cert_not_after - obs::unix_millis() / 1000;
  if (left > kServerCertificateWarning.count()) return;
  obs::log_event("warning",
                 {{"detail", "the server certificate " + running_config_.listener.server_cert +
                                 " expires in " + std::to_string(left / 86400) +
                                 " days: renew it and the gateway reloads it"},
                  {"server_certificate_not_after", current_->server_cert_not_after}});
}

void Gateway::report_feed_status() {
  RevocationStatus status = revocation_->status();
  bool down = !status.last_error.empty();
  if (down == feed_down_) return;
  feed_down_ = down;
  if (down) {
    obs::log_event("revocation_feed", {{"state", "down"},
                                       {"error", status.last_error},
                                       {"serials_kept", status.loaded},
                                       {"detail", "enforcing the last known revocation set"}});
  } else {
    obs::log_event("revocation_feed", {{"state", "up"}, {"serials_loaded", status.loaded}});
  }
}

// glibc keeps the memory that closed connections freed in its per-thread arenas, so a burst of
// connections (2,000 idle ones that never finish a handshake, say) would leave the process that
// much bigger for good. Once the open count has fallen well below its high-water mark, the
// arenas' free pages go back to the system.
void Gateway::release_idle_memory() {
  uint64_t open = shared_.open_connections.load(std::memory_order_relaxed);
  uint64_t high = shared_.open_high_water.load(std::memory_order_relaxed);
  if (high < open + kTrimAfterClosed) return;
  shared_.open_high_water.store(open, std::memory_order_relaxed);
  ::malloc_trim(0);
}

void Gateway::watch_tick() {
  watch_timer_.expires_after(kWatchInterval);
  watch_timer_.async_wait([this](error_code ec) {
    if (ec) return;
    if (watch_.changed()) reload("file_change");
    report_feed_status();
    release_idle_memory();
    watch_tick();
  });
}

Status Gateway::run() {
  // Fail closed: a gateway that never learned what is revoked must not admit anyone.
  TETHER_ASSIGN_OR_RETURN(auto store, open_store(running_config_.store.path));
  auto stored_domain = store->get_setting("trust_domain");
  if (!stored_domain.ok()) return std::move(stored_domain).error();
  store_trust_domain_ = stored_domain->value_or("");
  TETHER_TRY(adopt_store_trust_domain(running_config_));
  if (auto s = revocation_->refresh(*store); !s.ok()) {
    return make_error(Errc::io_error, "cannot load revocations from store '" +
                                          running_config_.store.path + "': " + s.error().message);
  }
  size_t count = running_config_.workers != 0 ? running_config_.workers
                                              : std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < count; ++i) workers_.push_back(std::make_unique<Worker>(i, shared_));
  TETHER_ASSIGN_OR_RETURN(
      current_, build_snapshot(running_config_, revocation_, metrics_, libraries(), &sessions_));
  for (auto& worker : workers_) worker->set_snapshot(current_);
  TETHER_TRY(open_listeners(running_config_));
  warn_if_server_certificate_expires_soon();

  if (running_config_.admin) {
    admin_ = std::make_unique<AdminServer>(
        control_, AdminHandlers{[this] { return render_metrics(); },
                                [this] { return ready_.load(std::memory_order_relaxed); }});
    TETHER_ASSIGN_OR_RETURN(
        uint16_t port, admin_->listen(running_config_.admin->address, running_config_.admin->port));
    obs::log_event(
        "listening",
        {{"listener", "admin"}, {"address", running_config_.admin->address}, {"port", port}});
  }

  poller_ = std::make_unique<RevocationPoller>(
      revocation_, std::move(store),
      std::chrono::milliseconds(running_config_.store.poll_interval_ms));
  for (auto& worker : workers_) worker->start();
  workers_ready_.store(true, std::memory_order_release);

  asio::signal_set stop_signals(control_, SIGINT, SIGTERM);
  stop_signals.async_wait([this](error_code ec, int signal) {
    if (ec) return;
    ready_ = false;
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

  ready_ = true;
  RevocationStatus status = revocation_->status();
  obs::log_event("ready", {{"workers", workers_.size()},
                           {"routes", running_config_.routes.size()},
                           {"revoked_serials", status.loaded},
                           {"config", config_path_}});
  control_.run();

  for (auto& worker : workers_) worker->stop();
  poller_.reset();
  obs::log_event("stopped");
  return ok_status();
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

}  // namespace

Status run_gateway(const std::string& config_path) {
  // Writes to a client that has gone away must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  raise_open_file_limit();
  TETHER_ASSIGN_OR_RETURN(Config config, read_config_file(config_path));
  Gateway gateway(config_path, std::move(config));
  return gateway.run();
}

}  // namespace tether::gateway

#include "gateway/gateway.h"

#include <malloc.h>

#include <boost/asio/post.hpp>
#include <thread>

#include "gateway/admin_server.h"
#include "gateway/reload_check.h"
#include "net/listen_socket.h"
#include "obs/log_sink.h"

namespace tether::gateway {

namespace {

constexpr std::chrono::seconds kHousekeepingInterval{1};
// Memory goes back to the system once this many connections closed since the high-water mark.
constexpr uint64_t kTrimAfterClosed = 256;
constexpr std::chrono::seconds kServerCertificateWarning{30 * 86400};

}  // namespace

Gateway::Gateway(Config config, GatewayDependencies deps)
    : running_config_(std::move(config)),
      store_(std::move(deps.store)),
      metrics_(deps.metrics),
      control_(deps.control),
      revocation_(std::make_shared<RevocationCache>(
          [this](const std::vector<std::string>& serials) { on_revoked(serials); })),
      shared_{metrics_, *revocation_, {}, {}, {}, deps.activity != nullptr},
      sessions_(running_config_.tls.session_cache_bytes),
      activity_log_(std::move(deps.activity)) {}

Gateway::~Gateway() {
  stop();
}

Result<std::unique_ptr<Gateway>> Gateway::create(Config config, GatewayDependencies deps) {
  if (!deps.store) return make_error(Errc::invalid_argument, "the gateway needs a store");
  std::unique_ptr<Gateway> gateway(new Gateway(std::move(config), std::move(deps)));
  auto stored_domain = gateway->store_->get_setting("trust_domain");
  if (!stored_domain.ok()) return std::move(stored_domain).error();
  gateway->store_trust_domain_ = stored_domain->value_or("");
  TETHER_TRY(gateway->adopt_store_trust_domain(gateway->running_config_));
  if (auto s = gateway->revocation_->refresh(*gateway->store_); !s.ok()) {
    return make_error(Errc::io_error, "cannot load revocations from store '" +
                                          gateway->running_config_.store.path +
                                          "': " + s.error().message);
  }
  return gateway;
}

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
                    "trust_domain = \"" + config.trust_domain +
                        "\" differs from the CA's trust domain \"" + store_trust_domain_ +
                        "\" in store.path '" + config.store.path +
                        "': remove trust_domain from the config, or point store.path at that CA");
}

void Gateway::on_revoked(const std::vector<std::string>& serials) {
  if (!workers_ready_.load(std::memory_order_acquire)) return;  // nothing is connected yet
  for (auto& worker : workers_) worker->post_close_serials(serials);
}

std::vector<OSSL_LIB_CTX*> Gateway::libraries() const {
  std::vector<OSSL_LIB_CTX*> out;
  for (const auto& worker : workers_) out.push_back(worker->openssl_library());
  return out;
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
    if (i == 0) listener_port_ = port;
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
  tls::SessionCacheStats sessions = sessions_.stats();
  gauges.session_cache = {.bytes = sessions.bytes,
                          .sessions = sessions.sessions,
                          .limit_bytes = sessions.limit_bytes,
                          .evictions = sessions.evictions};
  return metrics_.render_prometheus(gauges);
}

Status Gateway::reload(Config config, std::string_view trigger) {
  TETHER_TRY(adopt_store_trust_domain(config));
  TETHER_TRY(check_reloadable(running_config_, config));
  TETHER_ASSIGN_OR_RETURN(auto snapshot,
                          build_snapshot(config, revocation_, metrics_, libraries(), &sessions_));
  current_ = std::move(snapshot);
  running_config_ = std::move(config);
  // The cache is one for the process, so a new size applies in place: a smaller one evicts the
  // oldest sessions now, and 0 keeps no more (the new contexts still use the cache).
  sessions_.set_limit(running_config_.tls.session_cache_bytes);
  for (auto& worker : workers_) worker->post_snapshot(current_);
  ++generation_;
  obs::log_event("reload", {{"trigger", trigger},
                            {"outcome", "applied"},
                            {"generation", generation_},
                            {"routes", running_config_.routes.size()},
                            {"server_certificate_not_after", current_->server_cert_not_after}});
  warn_if_server_certificate_expires_soon();
  return ok_status();
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

void Gateway::housekeeping_tick() {
  housekeeping_timer_.expires_after(kHousekeepingInterval);
  housekeeping_timer_.async_wait([this](error_code ec) {
    if (ec) return;
    report_feed_status();
    release_idle_memory();
    housekeeping_tick();
  });
}

Status Gateway::start() {
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
        control_, AdminHandlers{[this] { return render_metrics(); }, [this] { return ready(); }});
    TETHER_ASSIGN_OR_RETURN(
        uint16_t port, admin_->listen(running_config_.admin->address, running_config_.admin->port));
    obs::log_event(
        "listening",
        {{"listener", "admin"}, {"address", running_config_.admin->address}, {"port", port}});
  }

  poller_ = std::make_unique<RevocationPoller>(
      revocation_, std::move(store_),
      std::chrono::milliseconds(running_config_.store.poll_interval_ms));
  for (auto& worker : workers_) worker->start();
  workers_ready_.store(true, std::memory_order_release);
  if (activity_log_) {
    std::vector<ActivityWriter::Source> sources;
    for (auto& worker : workers_) {
      Worker* w = worker.get();
      sources.push_back({[w](std::function<void()> task) { asio::post(w->io(), std::move(task)); },
                         &w->activity()});
    }
    activity_ = std::make_unique<ActivityWriter>(
        std::move(sources), std::move(activity_log_),
        std::chrono::milliseconds(running_config_.store.activity_flush_interval_ms), metrics_);
  }
  housekeeping_tick();

  ready_ = true;
  RevocationStatus status = revocation_->status();
  obs::log_event("ready", {{"workers", workers_.size()},
                           {"routes", running_config_.routes.size()},
                           {"revoked_serials", status.loaded}});
  return ok_status();
}

void Gateway::stop() {
  if (stopped_) return;
  stopped_ = true;
  ready_ = false;
  housekeeping_timer_.cancel();
  if (admin_) admin_->close();
  // The writer stops asking the workers first (their loops are about to end), and writes what
  // they hold once they have.
  if (activity_) activity_->pause();
  for (auto& worker : workers_) worker->stop();
  if (activity_) activity_->stop();
  poller_.reset();
  listeners_.clear();
  if (workers_ready_.exchange(false)) obs::log_event("stopped");
}

ConnectedNow Gateway::connected_now() const {
  if (!workers_ready_.load(std::memory_order_acquire)) return {};
  std::vector<LiveSource> sources;
  for (const auto& worker : workers_) {
    Worker* w = worker.get();
    sources.push_back(
        {[w](std::function<void()> task) { asio::post(w->io(), std::move(task)); }, &w->live()});
  }
  return gather_connected_now(sources, kConnectedNowWait);
}

}  // namespace tether::gateway

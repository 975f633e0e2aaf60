// The gateway as a component: made from a validated config and what it depends on, then
// started, reloaded and stopped by its owner. It owns its event loops (one per worker), its
// listening sockets, the admin listener and the revocation feed's poller; it never touches
// signals, rlimits or the config file, which are its owner's (cli/gateway_cmd.cc for
// `tether gateway`; a `tether server` composes it beside the CA).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "gateway/activity_writer.h"
#include "gateway/config.h"
#include "gateway/connected_now.h"
#include "gateway/net.h"
#include "gateway/revocation_cache.h"
#include "gateway/snapshot.h"
#include "gateway/worker.h"
#include "obs/metrics.h"
#include "store/store.h"
#include "tls/session_cache.h"

namespace tether::gateway {

class AdminServer;

struct GatewayDependencies {
  // The store whose revocations the gateway enforces and whose trust domain its identities
  // carry. The gateway reads the revocation set from it before admitting anyone, then follows
  // its revocation feed on a thread of its own.
  std::unique_ptr<store::Store> store;
  // Counters and histograms; the owner may render them beside its own. Outlives the gateway.
  obs::GatewayMetrics& metrics;
  // Runs the gateway's control work: the admin listener, timers, the listening sockets. The
  // owner runs it (and may run its own work on it).
  asio::io_context& control;
  // Optional: another handle on the same store, for the gateway's activity writer
  // (activity_writer.h), the one thread that uses it. With it, each certificate's last
  // presentation and the handshake outcomes per minute are written every
  // store.activity_flush_interval_ms and when the gateway stops; without it nothing is
  // recorded.
  std::unique_ptr<store::ActivityLog> activity = nullptr;
};

class Gateway {
 public:
  // Checks the config against the store (the trust domain) and loads the revocation set: fails
  // closed, as a gateway that never learned what is revoked must not admit anyone. Errors about
  // the config name the setting; the owner adds where the config came from.
  static Result<std::unique_ptr<Gateway>> create(Config config, GatewayDependencies deps);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Opens every listener, starts the workers and logs {"event":"ready"}. An error (a port in
  // use, a certificate refused) leaves nothing serving.
  Status start();
  // Applies a new config without dropping connections, or refuses it (the error names why) and
  // keeps the running one. Logs {"event":"reload","outcome":"applied"} when applied; `trigger`
  // says what asked for it ("SIGHUP", "file_change").
  Status reload(Config config, std::string_view trigger);
  // Stops accepting, closes every connection and joins the workers.
  void stop();

  const Config& running_config() const { return running_config_; }
  bool ready() const { return ready_.load(std::memory_order_relaxed); }
  // The port the mTLS listener got (listener.port, or the kernel's pick for 0); 0 before start().
  uint16_t listener_port() const { return listener_port_; }
  std::string render_metrics() const;

  // Who is connected now, per identity: asks every worker for its live connections
  // (connected_now.h) and waits for the answers, at most kConnectedNowWait. Thread-safe; from
  // any thread but a worker's. Empty before start() and after stop().
  static constexpr std::chrono::milliseconds kConnectedNowWait{1000};
  ConnectedNow connected_now() const;

 private:
  Gateway(Config config, GatewayDependencies deps);

  Status open_listeners(const Config& config);
  void on_revoked(const std::vector<std::string>& serials);
  void housekeeping_tick();
  void release_idle_memory();
  Status adopt_store_trust_domain(Config& config) const;
  void warn_if_server_certificate_expires_soon() const;
  void report_feed_status();
  std::vector<OSSL_LIB_CTX*> libraries() const;

  Config running_config_;
  std::unique_ptr<store::Store> store_;  // until start() hands it to the poller
  obs::GatewayMetrics& metrics_;
  asio::io_context& control_;
  std::shared_ptr<RevocationCache> revocation_;
  SharedState shared_;
  // Before the contexts that use it (current_, workers_), so it is destroyed after them.
  tls::SessionCache sessions_;
  std::shared_ptr<const Snapshot> current_;  // control thread only
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> workers_ready_{false};  // on_revoked may run before workers exist
  std::atomic<bool> ready_{false};
  bool stopped_ = false;
  std::vector<std::unique_ptr<tcp::acceptor>> listeners_;  // the ports this gateway owns
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<RevocationPoller> poller_;
  std::unique_ptr<store::ActivityLog> activity_log_;  // until start() hands it to the writer
  std::unique_ptr<ActivityWriter> activity_;
  asio::steady_timer housekeeping_timer_{control_};
  bool feed_down_ = false;
  uint64_t generation_ = 1;
  uint16_t listener_port_ = 0;
  std::string store_trust_domain_;  // the CA's, from the store ("" for a store without one)
};

}  // namespace tether::gateway

// One event loop: a thread, its io_context, its acceptors (each a duplicate of the process's one
// listening socket per port), and the state its connections share without locks (current
// snapshot, live connections, upstream pool).
//
// Other threads talk to a worker only by posting to its io_context (post_snapshot,
// post_close_serials, the activity writer taking activity(), Gateway::connected_now reading
// live()), so everything below `Thread-local state` is touched by one thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "gateway/activity.h"
#include "gateway/client_origin.h"
#include "gateway/live_connections.h"
#include "gateway/net.h"
#include "gateway/snapshot.h"
#include "gateway/upstream.h"
#include "obs/log_sink.h"
#include "obs/metrics.h"
#include "tls/handshake_verify.h"
#include "x509/handles.h"

namespace tether::gateway {

// What every worker reads: owned by the Gateway, outliving the workers.
struct SharedState {
  obs::GatewayMetrics& metrics;
  const tls::RevocationSet& revocation;
  std::atomic<uint64_t> open_connections{0};  // for limits.max_connections
  // The most connections open at once since the control loop last gave memory back.
  std::atomic<uint64_t> open_high_water{0};
  SourceCounts sources;  // for limits.max_connections_per_source
  // Whether workers record handshakes into their activity buffers: only when something writes
  // them out (GatewayDependencies::activity), else the buffers would only grow.
  bool record_activity = false;
};

class Worker {
 public:
  Worker(size_t index, SharedState& shared);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Accepts connections on `listening` (a socket the Gateway bound and listens on), through a
  // duplicate of its descriptor: every worker waits on the same accept queue. Call before
  // start().
  Status adopt_listener(tcp::acceptor& listening, uint16_t port);

  void start();
  // Stops accepting and ends the loop; open connections are dropped. Joins the thread.
  void stop();

  // Before start(); from then on, post_snapshot.
  void set_snapshot(std::shared_ptr<const Snapshot> snapshot) { snapshot_ = std::move(snapshot); }
  // From any thread.
  void post_snapshot(std::shared_ptr<const Snapshot> snapshot);
  void post_close_serials(std::vector<std::string> serials);

  size_t index() const { return index_; }
  OSSL_LIB_CTX* openssl_library() const { return library_.get(); }
  asio::io_context& io() { return io_; }
  SharedState& shared() { return shared_; }

  // Thread-local state: only from coroutines running on this worker.
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  LiveConnections& live() { return live_; }
  UpstreamPool& pool() { return pool_; }
  // What this loop's handshakes did since the activity writer last took it (activity.h).
  ActivityBuffer& activity() { return activity_; }
  // Counts a completed handshake and, when accepted, the certificate it presented.
  void record_handshake(const tls::HandshakeOutcome& outcome);

 private:
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, uint16_t port);
  // Runs `task` on this loop every `interval` until the loop stops.
  asio::awaitable<void> every(std::chrono::steady_clock::duration interval,
                              std::function<void()> task);

  // Log lines wait at most this long in the worker's buffer.
  static constexpr std::chrono::milliseconds kLogFlushInterval{50};
  // Idle upstream connections are checked this often (UpstreamPool::sweep).
  static constexpr std::chrono::seconds kPoolSweepInterval{5};

  size_t index_;
  x509::LibraryCtxPtr library_{OSSL_LIB_CTX_new()};
  SharedState& shared_;
  asio::io_context io_{1};  // one thread: the hint lets Asio skip internal locking
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::vector<uint16_t> ports_;
  std::thread thread_;
  obs::LogBuffer* log_buffer_ = nullptr;  // the worker thread's, while it runs

  std::shared_ptr<const Snapshot> snapshot_;
  LiveConnections live_;
  UpstreamPool pool_;
  ActivityBuffer activity_;
};

}  // namespace tether::gateway

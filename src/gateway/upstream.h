// Connections to upstreams: opening them with a deadline, and keeping idle keep-alive ones for
// reuse. One pool per event loop, used only on its thread: no lock, and a pooled connection is
// always reused on the loop that owns its socket.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "gateway/net.h"
#include "gateway/route.h"
#include "net/socket_deadline.h"

namespace tether::gateway {

// Connects `stream` to the route's upstream, within `timeout` (beast::error::timeout when it
// runs out). IP literals are connected to directly; names are resolved first.
asio::awaitable<error_code> connect_upstream(beast::tcp_stream& stream, const Route& route,
                                             std::chrono::seconds timeout);

// "host:port" of a route's upstream: the pool key.
std::string upstream_key(const Route& route);

// A keep-alive connection to an upstream with the deadline of its exchanges. Kept on the heap
// and never moved, so the deadline's timer survives from one request to the next (re-arming a
// timer per request costs more than the request's parsing).
struct UpstreamConnection {
  explicit UpstreamConnection(asio::io_context& io) : stream(io), deadline(stream.socket()) {}
  beast::tcp_stream stream;  // connects with beast's timeout; exchanges use stream.socket()
  net::SocketDeadline deadline;
};
using UpstreamConnectionPtr = std::unique_ptr<UpstreamConnection>;

class UpstreamPool {
 public:
  // At most this many idle connections per upstream, each kept at most kMaxIdle.
  static constexpr size_t kMaxIdlePerUpstream = 64;
  static constexpr std::chrono::seconds kMaxIdle{30};
  static constexpr std::chrono::seconds kPeekAfterIdle{1};

  // An idle connection to `key` that the upstream has not closed, if there is one.
  UpstreamConnectionPtr take(const std::string& key);
  // Keeps a connection whose last response left it reusable.
  void give_back(const std::string& key, UpstreamConnectionPtr connection);
  // Closes the connections idle for more than kMaxIdle, or that the upstream closed, so an idle
  // gateway holds no upstream sockets for good (the worker calls it every few seconds).
  void sweep();

 private:
  struct Idle {
    UpstreamConnectionPtr connection;
    std::chrono::steady_clock::time_point since;
  };
  std::unordered_map<std::string, std::deque<Idle>> idle_;
};

}  // namespace tether::gateway

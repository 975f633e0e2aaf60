// Where a client connection comes from: the TCP peer, or, behind a load balancer that speaks
// PROXY protocol v2 (proxy_protocol.h), the client address the balancer states. Read before the
// TLS handshake, so logs, X-Forwarded-For and per-source limits name the real client.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/error.h"
#include "gateway/net.h"

namespace tether::gateway {

// The peer's address ("::1" bare) and the "address:port" form logs use ("[::1]:443").
struct PeerAddress {
  std::string ip;
  std::string text;
};

PeerAddress peer_address(const tcp::socket& socket);

// Reads one PROXY v2 header from `socket` within `timeout`, in two bounded reads (never a byte
// of the TLS handshake after it), and returns the client it names; a LOCAL header (the
// balancer's own health check) names the balancer itself, `balancer`. Errors say what was wrong
// with the header, or that none came in time.
asio::awaitable<Result<PeerAddress>> read_proxy_origin(tcp::socket& socket,
                                                       const PeerAddress& balancer,
                                                       std::chrono::seconds timeout);

// Open connections per client address, for limits.max_connections_per_source. Shared by the
// workers; touched once when a connection opens and once when it closes.
class SourceCounts {
 public:
  // Counts a connection from `ip` and returns how many are open from it, this one included.
  uint32_t add(const std::string& ip);
  void remove(const std::string& ip);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, uint32_t> open_;
};

}  // namespace tether::gateway

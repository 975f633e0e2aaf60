// Routes: which upstream a request goes to, chosen from the SNI / Host name, the path and the
// listener port. Built once from a validated Config; matching is pure and allocation-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/policy.h"
#include "gateway/request_target.h"

namespace tether::gateway {

enum class Protocol { http, websocket, tcp };

std::string_view protocol_name(Protocol p);

struct RouteMatch {
  // Canonical host name: lowercase, no trailing dot. "*.example.com" matches exactly one extra
  // leading label (RFC 6125 6.4.3 style). Empty: any host.
  std::string sni;
  // Matches on a segment boundary: "/api" matches "/api" and "/api/x", never "/apix".
  std::string path_prefix = "/";
  // Listener port. Each distinct port opens a listener on listener.address with the same TLS
  // settings. Required for tcp routes, which match by port only.
  std::optional<uint16_t> port;
};

struct Route {
  std::string name;
  RouteMatch match;
  std::string upstream_host;  // a DNS name or IP address; IPv6 without brackets
  uint16_t upstream_port = 0;
  // Set for `upstream = "internal:<name>"`: a service inside this process
  // (gateway/internal_upstream.h), whose loopback address its owner fills in above.
  std::string internal_upstream;
  Protocol protocol = Protocol::http;
  std::vector<Rule> allow;  // never empty after parse_config
};

// Lowercases and drops one trailing dot: the form SNI patterns and names are compared in.
std::string canonical_host(std::string_view host);

// True when `sni_pattern` (canonical, maybe "*.x") matches `host` (canonicalized here).
bool host_matches_pattern(std::string_view sni_pattern, std::string_view host);

// True when `path` starts with `prefix` on a segment boundary: "/", or ';' where a path
// parameter begins ("/admin;x" is below "/admin" for the servers that strip parameters).
bool path_has_prefix(std::string_view path, std::string_view prefix);

// The Host header's host (HostHeader::host, already canonical) names the same host as the SNI
// (case-insensitive, trailing dot ignored). An empty SNI (none sent) matches any host. The
// gateway calls this before proxying and answers 421 on a mismatch, so a certificate presented
// for one tenant's host can never be used to reach another's (tenant isolation).
bool host_matches_sni(std::string_view host, std::string_view sni);

class RouteTable {
 public:
  RouteTable() = default;
  explicit RouteTable(std::vector<Route> routes);

  const std::vector<Route>& routes() const { return routes_; }  // in precedence order

 private:
  std::vector<Route> routes_;
};

// The route for a request, or nullptr (the caller answers 404 / closes the connection).
// - A tcp route whose port equals `port` wins outright: those listeners speak no HTTP.
// - Otherwise among http / websocket routes whose port (if set) equals `port`, whose sni pattern
//   (if set) matches the name, and whose prefix matches `path`, the most specific wins: exact host
//   over wildcard over any host, then a set port over none, then the longest path_prefix.
// `name` is the TLS server name when the client sent one, else the Host header's host; the
// SNI/Host mismatch decision is the caller's (see host_matches_sni). Routes match on the
// target's decoded, normalised path (request_target.h), the one the upstream receives.
const Route* match_route(const RouteTable& table, std::string_view name,
                         const RequestTarget& target, uint16_t port);

// The tcp route on a listener port, if any: decides before any bytes are read whether a
// connection is proxied raw.
const Route* match_tcp_route(const RouteTable& table, uint16_t port);

}  // namespace tether::gateway

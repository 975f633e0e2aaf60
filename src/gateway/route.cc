#include "gateway/route.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <tuple>

#include "common/ascii.h"

namespace tether::gateway {

namespace beast = boost::beast;

namespace {

std::string_view drop_trailing_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// Host specificity: exact 2, wildcard 1, any 0.
int host_rank(const Route& r) {
  if (r.match.sni.empty()) return 0;
  return r.match.sni.starts_with("*.") ? 1 : 2;
}

}  // namespace

std::string_view protocol_name(Protocol p) {
  switch (p) {
    case Protocol::http:
      return "http";
    case Protocol::websocket:
      return "websocket";
    case Protocol::tcp:
      return "tcp";
  }
  return "?";
}

std::string canonical_host(std::string_view host) {
  return to_lower_ascii(drop_trailing_dot(host));
}

bool host_matches_pattern(std::string_view pattern, std::string_view host) {
  host = drop_trailing_dot(host);
  if (pattern.starts_with("*.")) {
    // One whole leading label, never empty, never spanning a dot.
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    if (host.size() <= suffix.size()) return false;
    std::string_view label = host.substr(0, host.size() - suffix.size());
    if (label.find('.') != std::string_view::npos) return false;
    return beast::iequals(host.substr(label.size()), suffix);
  }
  return beast::iequals(pattern, host);
}

bool path_has_prefix(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return false;
  if (prefix.ends_with('/') || path.size() == prefix.size()) return true;
  return path[prefix.size()] == '/' || path[prefix.size()] == ';';
}

bool host_matches_sni(std::string_view host, std::string_view sni) {
  if (sni.empty()) return true;
  return beast::iequals(drop_trailing_dot(host), drop_trailing_dot(sni));
}

RouteTable::RouteTable(std::vector<Route> routes) : routes_(std::move(routes)) {
  // Sort once so matching is a first-hit scan. stable_sort keeps config order among equals
  // (parse_config rejects routes that match exactly the same requests).
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    auto key = [](const Route& r) {
      return std::make_tuple(r.protocol == Protocol::tcp, host_rank(r), r.match.port.has_value(),
                             r.match.path_prefix.size());
    };
    return key(a) > key(b);
  });
}

const Route* match_tcp_route(const RouteTable& table, uint16_t port) {
  for (const Route& r : table.routes()) {
    if (r.protocol == Protocol::tcp && r.match.port == port) return &r;
  }
  return nullptr;
}

const Route* match_route(const RouteTable& table, std::string_view name,
                         const RequestTarget& target, uint16_t port) {
  if (const Route* tcp = match_tcp_route(table, port)) return tcp;
  std::string_view path = target.path;
  for (const Route& r : table.routes()) {
    if (r.protocol == Protocol::tcp) continue;
    if (r.match.port && *r.match.port != port) continue;
    if (!r.match.sni.empty() && !host_matches_pattern(r.match.sni, name)) continue;
    if (!path_has_prefix(path, r.match.path_prefix)) continue;
    return &r;
  }
  return nullptr;
}

}  // namespace tether::gateway

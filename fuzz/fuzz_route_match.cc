// Route matching (gateway::match_route) on an arbitrary host name, raw target and port, against a
// fixed table. Checks that a returned route really matches and that no more specific one was
// skipped.
#include <cstddef>
#include <cstdint>
#include <tuple>

#include "fuzz_common.h"
#include "gateway/route.h"

using namespace tether;
using namespace tether::gateway;

namespace {

Route make(std::string name, std::string sni, std::string prefix, std::optional<uint16_t> port,
           Protocol protocol = Protocol::http) {
  Route r;
  r.name = std::move(name);
  r.match.sni = std::move(sni);
  r.match.path_prefix = std::move(prefix);
  r.match.port = port;
  r.protocol = protocol;
  r.upstream_host = "127.0.0.1";
  r.upstream_port = 8080;
  return r;
}

const RouteTable& table() {
  static const RouteTable t({
      make("root", "", "/", std::nullopt),
      make("api", "", "/api", std::nullopt),
      make("api-v1", "", "/api/v1", std::nullopt),
      make("docs", "", "/docs/", std::nullopt),
      make("acme", "acme.example.com", "/", std::nullopt),
      make("acme-api", "acme.example.com", "/api", std::nullopt),
      make("wild", "*.example.com", "/", std::nullopt),
      make("wild-admin", "*.example.com", "/admin", 9443),
      make("port", "", "/", 9443),
      make("mqtt", "", "/", 8883, Protocol::tcp),
  });
  return t;
}

// Written independently of route.cc: the segment-boundary rule, where a path parameter (';')
// also ends a segment.
bool prefixes_with_parameters(std::string_view path, std::string_view prefix) {
  if (prefix.ends_with('/')) return path.starts_with(prefix);
  return path == prefix || path.starts_with(std::string(prefix) + "/") ||
         path.starts_with(std::string(prefix) + ";");
}

bool matches(const Route& r, std::string_view name, std::string_view path, uint16_t port) {
  if (r.match.port && *r.match.port != port) return false;
  if (!r.match.sni.empty() && !host_matches_pattern(r.match.sni, name)) return false;
  return prefixes_with_parameters(path, r.match.path_prefix);
}

auto specificity(const Route& r) {
  int host = r.match.sni.empty() ? 0 : (r.match.sni.starts_with("*.") ? 1 : 2);
  return std::make_tuple(host, r.match.port.has_value(), r.match.path_prefix.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint16_t port = static_cast<uint16_t>(data[0] << 8 | data[1]);
  std::string_view rest = fuzz::as_view(data + 2, size - 2);
  // name \n target: the host name routes see (SNI or the Host header's host) and a raw target.
  size_t a = rest.find('\n');
  std::string_view name = rest.substr(0, a);
  std::string_view raw_target = a == std::string_view::npos ? "" : rest.substr(a + 1);
  auto target = parse_request_target(raw_target);
  if (!target) return 0;

  const Route* got = match_route(table(), name, *target, port);
  if (!got) return 0;
  if (got->protocol == Protocol::tcp) {
    fuzz::require(got->match.port == port, "a tcp route is returned only on its port");
    return 0;
  }
  fuzz::require(match_tcp_route(table(), port) == nullptr, "a tcp port never routes as http");
  std::string_view path = target->path;
  fuzz::require(prefixes_with_parameters(path, got->match.path_prefix),
                "the route's prefix prefixes the path on a segment boundary");
  for (std::string_view seg : {"/./", "/../"}) {
    fuzz::require(std::string(path).append("/").find(seg) == std::string::npos,
                  "paths with dot segments are never routed");
  }
  if (!got->match.sni.empty()) {
    fuzz::require(host_matches_pattern(got->match.sni, name), "the route's host matches");
  }
  for (const Route& r : table().routes()) {
    if (r.protocol == Protocol::tcp) continue;
    if (matches(r, name, path, port)) {
      fuzz::require(specificity(r) <= specificity(*got), "no more specific route was skipped");
    }
  }
  return 0;
}

// Route matching (gateway::match_route) on arbitrary SNI, Host, path and port, against a fixed
// table. Checks that a returned route really matches and that no more specific one was skipped.
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

// Written independently of route.cc: the segment-boundary rule.
bool prefixes(std::string_view path, std::string_view prefix) {
  if (prefix.ends_with('/')) return path.starts_with(prefix);
  return path == prefix || path.starts_with(std::string(prefix) + "/");
}

bool matches(const Route& r, std::string_view name, std::string_view path, uint16_t port) {
  if (r.match.port && *r.match.port != port) return false;
  if (!r.match.sni.empty() && !host_matches_pattern(r.match.sni, name)) return false;
  return prefixes(path, r.match.path_prefix);
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
  // sni \n host \n path
  size_t a = rest.find('\n');
  std::string_view sni = rest.substr(0, a);
  std::string_view remaining = a == std::string_view::npos ? "" : rest.substr(a + 1);
  size_t b = remaining.find('\n');
  std::string_view host = remaining.substr(0, b);
  std::string_view path = b == std::string_view::npos ? "" : remaining.substr(b + 1);

  (void)host_matches_sni(host, sni);
  const Route* got = match_route(table(), sni, host, path, port);
  if (!got) return 0;
  if (got->protocol == Protocol::tcp) {
    fuzz::require(got->match.port == port, "a tcp route is returned only on its port");
    return 0;
  }
  fuzz::require(match_tcp_route(table(), port) == nullptr, "a tcp port never routes as http");
  std::string_view clean = path.substr(0, path.find_first_of("?#"));
  fuzz::require(prefixes(clean, got->match.path_prefix),
                "the route's prefix prefixes the path on a segment boundary");
  for (std::string_view seg : {"/./", "/../"}) {
    fuzz::require(std::string(clean).append("/").find(seg) == std::string::npos,
                  "paths with dot segments are never routed");
  }
  std::string_view name = sni.empty() ? host : sni;
  if (sni.empty()) {
    // The Host header's port is not part of the name.
    size_t colon = name.find(':');
    if (!name.starts_with('[') && colon != std::string_view::npos &&
        name.find(':', colon + 1) == std::string_view::npos) {
      name = name.substr(0, colon);
    }
  }
  if (!got->match.sni.empty() && !name.starts_with('[')) {
    fuzz::require(host_matches_pattern(got->match.sni, name), "the route's host matches");
  }
  for (const Route& r : table().routes()) {
    if (r.protocol == Protocol::tcp || name.starts_with('[')) continue;
    if (matches(r, name, clean, port)) {
      fuzz::require(specificity(r) <= specificity(*got), "no more specific route was skipped");
    }
  }
  return 0;
}

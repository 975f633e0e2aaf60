// The request decision (gateway::decide_request) on a raw TLS server name, Host header and
// request target, against a fixed table: the target parser and normaliser, the Host parser and
// the routing rules together. Checks that what is proxied is what was routed on: the forwarded
// target parses back to the same path, that path has no dot or empty segments, and the Host
// forwarded names the host the SNI named.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "gateway/request_decision.h"

using namespace tether;
using namespace tether::gateway;

namespace {

Route make(std::string name, std::string sni, std::string prefix, std::string rule) {
  Route r;
  r.name = std::move(name);
  r.match.sni = std::move(sni);
  r.match.path_prefix = std::move(prefix);
  r.upstream_host = "127.0.0.1";
  r.upstream_port = 8080;
  r.allow.push_back(parse_rule(rule, "allow").value());
  return r;
}

const RouteTable& table() {
  static const RouteTable t({
      make("root", "", "/", "tenant:acme"),
      make("admin", "", "/admin", "admin:alice"),
      make("acme-api", "acme.example.com", "/api", "tenant:acme"),
      make("globex", "globex.example.com", "/", "tenant:globex"),
  });
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint16_t port = static_cast<uint16_t>(data[0] << 8 | data[1]);
  std::string_view rest = fuzz::as_view(data + 2, size - 2);
  // sni \n host \n target
  size_t a = rest.find('\n');
  std::string_view sni = rest.substr(0, a);
  std::string_view remaining = a == std::string_view::npos ? "" : rest.substr(a + 1);
  size_t b = remaining.find('\n');
  std::string_view host = remaining.substr(0, b);
  std::string_view target = b == std::string_view::npos ? "" : remaining.substr(b + 1);

  if (auto parsed = parse_host_header(host)) {
    auto again = parse_host_header(parsed->value);
    fuzz::require(again.ok() && again->value == parsed->value, "a canonical Host is a fixed point");
  }
  static const verify::Identity acme = verify::Identity::connector("acme", "edge-1");
  RequestDecision d = decide_request(table(), {target, host, 1, sni, port}, acme);
  fuzz::require(d.proxy() || !d.reason.empty(), "every refusal says why");
  if (!d.proxy()) return 0;
  fuzz::require(d.route != nullptr, "a proxied request has a route");
  auto forwarded = parse_request_target(d.target.forward);
  fuzz::require(forwarded.ok(), "the forwarded target parses");
  fuzz::require(forwarded->path == d.target.path, "the upstream reads the path that was routed");
  fuzz::require(forwarded->forward == d.target.forward, "the forwarded target is a fixed point");
  fuzz::require(d.target.path.find("//") == std::string::npos, "no empty segments");
  std::string with_slash = d.target.path + "/";
  for (std::string_view seg : {"/./", "/../"}) {
    fuzz::require(with_slash.find(seg) == std::string::npos, "no dot segments");
  }
  fuzz::require(path_has_prefix(d.target.path, d.route->match.path_prefix),
                "the route's prefix holds the path");
  auto forwarded_host = parse_host_header(d.host);
  fuzz::require(forwarded_host.ok(), "the forwarded Host parses");
  if (!sni.empty()) {
    fuzz::require(host_matches_sni(forwarded_host->host, sni), "the Host names the SNI's host");
  }
  return 0;
}

// The gateway config parser (gateway::parse_config) on arbitrary bytes. A config it accepts must
// be one the gateway can run safely; a refusal must say where.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "gateway/config.h"

using namespace tether;
using namespace tether::gateway;

namespace {

void check_route(const Route& r) {
  fuzz::require(verify::validate_id(r.name, "route").ok(), "route names are valid ids");
  fuzz::require(!r.upstream_host.empty() && r.upstream_port != 0, "every upstream is host:port");
  fuzz::require(!r.allow.empty(), "every route has an allow rule (default deny is explicit)");
  for (const Rule& rule : r.allow) {
    auto again = parse_rule(rule.text, "x");
    fuzz::require(again.ok() && again->kind == rule.kind && again->tenant == rule.tenant &&
                      again->name == rule.name,
                  "an accepted rule re-parses to itself");
    fuzz::require(rule.name != Rule::kAnyConnector || rule.kind == Rule::Kind::connector,
                  "'*' is only a connector id");
    if (rule.kind == Rule::Kind::connector || rule.kind == Rule::Kind::tenant) {
      fuzz::require(verify::validate_id(rule.tenant, "t").ok(), "rules name a valid tenant");
    }
  }
  fuzz::require(r.match.path_prefix.starts_with('/'), "prefixes start with '/'");
  fuzz::require(r.match.sni == canonical_host(r.match.sni), "sni patterns are canonical");
  if (r.protocol == Protocol::tcp) {
    fuzz::require(r.match.port.has_value(), "tcp routes have a port");
    fuzz::require(r.match.sni.empty() && r.match.path_prefix == "/", "tcp routes match port only");
  }
}

// Every route is reachable by some request: a request built from its own match must route.
void check_reachable(const Config& c) {
  RouteTable table(c.routes);
  for (const Route& r : c.routes) {
    std::string host = r.match.sni;
    if (host.starts_with("*.")) host = "x" + host.substr(1);
    uint16_t port = r.match.port.value_or(0);  // 0 is never a tcp route's port
    auto target = parse_request_target(r.match.path_prefix);
    fuzz::require(target.ok(), "a route's path_prefix is a valid target");
    const Route* got = match_route(table, host, *target, port);
    fuzz::require(got != nullptr, "a request made from a route's own match is routed");
    if (r.protocol == Protocol::tcp) fuzz::require(got->name == r.name, "tcp owns its port");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto c = parse_config(fuzz::as_view(data, size), "fuzz.toml");
  if (!c) {
    fuzz::require(c.error().code == Errc::invalid_argument || c.error().code == Errc::parse_error,
                  "refusals are invalid_argument or parse_error");
    fuzz::require(c.error().message.starts_with("fuzz.toml"), "refusals name the source");
    return 0;
  }
  fuzz::require(verify::validate_trust_domain(c->trust_domain).ok(), "trust domain is valid");
  fuzz::require(!c->listener.server_cert.empty() && !c->listener.server_key.empty() &&
                    !c->listener.trust.empty(),
                "the listener has a certificate, key and trust anchors");
  fuzz::require(c->limits.handshake_timeout_s > 0 && c->limits.header_timeout_s > 0 &&
                    c->limits.idle_timeout_s > 0,
                "timeouts are positive");
  fuzz::require(c->store.poll_interval_ms >= 10 && c->store.poll_interval_ms <= 1000,
                "revocation is polled at least once a second");
  fuzz::require(!c->routes.empty(), "there is a route");
  for (const Route& r : c->routes) check_route(r);
  check_reachable(*c);
  return 0;
}

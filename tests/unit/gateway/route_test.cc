#include "gateway/route.h"

#include <gtest/gtest.h>

#include "gateway/config.h"

namespace tether::gateway {
namespace {

Route make(std::string name, std::string sni, std::string prefix,
           std::optional<uint16_t> port = std::nullopt, Protocol protocol = Protocol::http) {
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

std::string name_of(const Route* r) {
  return r ? r->name : "(none)";
}

// The route for a request to host `name` with raw target `target`; "(refused)" when the target
// itself is refused before any route is looked at.
std::string route_for(const RouteTable& t, std::string_view name, std::string_view target,
                      uint16_t port) {
  auto parsed = parse_request_target(target);
  if (!parsed) return "(refused)";
  return name_of(match_route(t, name, *parsed, port));
}

TEST(GatewayRoute, LongestPrefixWins) {
  RouteTable t({make("root", "", "/"), make("api", "", "/api"), make("v1", "", "/api/v1")});
  EXPECT_EQ(route_for(t, "h", "/", 443), "root");
  EXPECT_EQ(route_for(t, "h", "/api", 443), "api");
  EXPECT_EQ(route_for(t, "h", "/api/x", 443), "api");
  EXPECT_EQ(route_for(t, "h", "/api/v1/users", 443), "v1");
  EXPECT_EQ(route_for(t, "h", "/api/v1?x=/y", 443), "v1");
}

TEST(GatewayRoute, PrefixMatchesOnSegmentBoundary) {
  RouteTable t({make("api", "", "/api"), make("slash", "", "/docs/")});
  EXPECT_EQ(route_for(t, "h", "/api", 1), "api");
  EXPECT_EQ(route_for(t, "h", "/api/", 1), "api");
  EXPECT_EQ(route_for(t, "h", "/api/x", 1), "api");
  EXPECT_EQ(route_for(t, "h", "/apix", 1), "(none)");
  EXPECT_EQ(route_for(t, "h", "/docs/a", 1), "slash");
  EXPECT_EQ(route_for(t, "h", "/docs", 1), "(none)");
  EXPECT_TRUE(path_has_prefix("/x", "/"));
  EXPECT_FALSE(path_has_prefix("/ap", "/api"));
}

TEST(GatewayRoute, DotSegmentsAndRelativePathsAreRefusedBeforeMatching) {
  RouteTable t({make("root", "", "/"), make("api", "", "/api")});
  EXPECT_EQ(route_for(t, "h", "/api/../admin", 1), "(refused)");
  EXPECT_EQ(route_for(t, "h", "/./api", 1), "(refused)");
  EXPECT_EQ(route_for(t, "h", "/api/..", 1), "(refused)");
  EXPECT_EQ(route_for(t, "h", "/api/%2e%2e/admin", 1), "(refused)");
  EXPECT_EQ(route_for(t, "h", "api", 1), "(refused)");
  EXPECT_EQ(route_for(t, "h", "", 1), "(refused)");
  EXPECT_EQ(route_for(t, "h", "/api/..x", 1), "api");
}

TEST(GatewayRoute, MatchesTheDecodedPath) {
  RouteTable t({make("root", "", "/"), make("admin", "", "/admin")});
  EXPECT_EQ(route_for(t, "h", "/%61dmin/x", 1), "admin");
  EXPECT_EQ(route_for(t, "h", "//admin/x", 1), "admin");
  EXPECT_EQ(route_for(t, "h", "/admin;jsessionid=1/x", 1), "admin");
  EXPECT_EQ(route_for(t, "h", "/admin;x", 1), "admin");
  EXPECT_EQ(route_for(t, "h", "/adminx", 1), "root");
}

TEST(GatewayRoute, HostsCompareCaseInsensitiveIgnoringTrailingDot) {
  RouteTable t({make("acme", "acme.example.com", "/")});
  EXPECT_EQ(route_for(t, "ACME.example.com.", "/", 1), "acme");
  EXPECT_EQ(route_for(t, "Acme.Example.Com", "/", 1), "acme");
  EXPECT_EQ(route_for(t, "acme.example.com.", "/", 1), "acme");
  EXPECT_EQ(route_for(t, "globex.example.com", "/", 1), "(none)");
  EXPECT_EQ(route_for(t, "", "/", 1), "(none)");
}

TEST(GatewayRoute, WildcardSniMatchesExactlyOneLabel) {
  RouteTable t({make("wild", "*.acme.example.com", "/")});
  EXPECT_EQ(route_for(t, "edge-1.acme.example.com", "/", 1), "wild");
  EXPECT_EQ(route_for(t, "EDGE.Acme.Example.Com.", "/", 1), "wild");
  EXPECT_EQ(route_for(t, "acme.example.com", "/", 1), "(none)");
  EXPECT_EQ(route_for(t, "a.b.acme.example.com", "/", 1), "(none)");
  EXPECT_EQ(route_for(t, ".acme.example.com", "/", 1), "(none)");
  EXPECT_EQ(route_for(t, "xacme.example.com", "/", 1), "(none)");
}

TEST(GatewayRoute, ExactHostBeatsWildcardBeatsAnyHost) {
  RouteTable t({make("any", "", "/api/v1"), make("wild", "*.example.com", "/"),
                make("exact", "api.example.com", "/")});
  EXPECT_EQ(route_for(t, "api.example.com", "/api/v1", 1), "exact");
  EXPECT_EQ(route_for(t, "web.example.com", "/api/v1", 1), "wild");
  EXPECT_EQ(route_for(t, "other.org", "/api/v1", 1), "any");
  EXPECT_EQ(route_for(t, "other.org", "/", 1), "(none)");
}

TEST(GatewayRoute, HostMatchesSniCaseInsensitiveIgnoringTrailingDot) {
  EXPECT_FALSE(host_matches_sni("globex.example.com", "acme.example.com"));
  EXPECT_TRUE(host_matches_sni("ACME.example.com.", "acme.example.com"));
  EXPECT_TRUE(host_matches_sni("acme.example.com", "acme.example.com."));
  EXPECT_TRUE(host_matches_sni("::1", "::1"));
  EXPECT_TRUE(host_matches_sni("anything", ""));
  EXPECT_FALSE(host_matches_sni("", "acme.example.com"));
}

TEST(GatewayRoute, PortRestrictsAndTcpOwnsItsPort) {
  RouteTable t({make("any", "", "/"), make("on-9443", "", "/", 9443),
                make("mqtt", "", "/", 8883, Protocol::tcp)});
  EXPECT_EQ(route_for(t, "h", "/", 443), "any");
  EXPECT_EQ(route_for(t, "h", "/", 9443), "on-9443");
  EXPECT_EQ(route_for(t, "x.example.com", "/anything", 8883), "mqtt");
  EXPECT_EQ(name_of(match_tcp_route(t, 8883)), "mqtt");
  EXPECT_EQ(match_tcp_route(t, 443), nullptr);
}

TEST(GatewayRoute, BuiltFromParsedConfig) {
  auto c = parse_config(R"(
[listener]
server_cert = "a"
server_key = "b"
trust = ["c"]
[store]
path = "d"
[[route]]
name = "root"
upstream = "h:1"
allow = ["tenant:acme"]
[[route]]
name = "api"
upstream = "h:2"
match = { path_prefix = "/api" }
allow = ["tenant:acme"]
)",
                        "gw.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  RouteTable t(c->routes);
  EXPECT_EQ(route_for(t, "h", "/api/x", 1), "api");
  EXPECT_EQ(route_for(t, "h", "/apix", 1), "root");
}

}  // namespace
}  // namespace tether::gateway

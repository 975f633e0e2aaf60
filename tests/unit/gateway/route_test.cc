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

TEST(GatewayRoute, LongestPrefixWins) {
  RouteTable t({make("root", "", "/"), make("api", "", "/api"), make("v1", "", "/api/v1")});
  EXPECT_EQ(name_of(match_route(t, "", "h", "/", 443)), "root");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api", 443)), "api");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api/x", 443)), "api");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api/v1/users", 443)), "v1");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api/v1?x=/y", 443)), "v1");
}

TEST(GatewayRoute, PrefixMatchesOnSegmentBoundary) {
  RouteTable t({make("api", "", "/api"), make("slash", "", "/docs/")});
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api", 1)), "api");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api/", 1)), "api");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api/x", 1)), "api");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/apix", 1)), "(none)");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/docs/a", 1)), "slash");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/docs", 1)), "(none)");
  EXPECT_TRUE(path_has_prefix("/x", "/"));
  EXPECT_FALSE(path_has_prefix("/ap", "/api"));
}

TEST(GatewayRoute, DotSegmentsAndRelativePathsMatchNothing) {
  RouteTable t({make("root", "", "/"), make("api", "", "/api")});
  EXPECT_EQ(match_route(t, "", "h", "/api/../admin", 1), nullptr);
  EXPECT_EQ(match_route(t, "", "h", "/./api", 1), nullptr);
  EXPECT_EQ(match_route(t, "", "h", "/api/..", 1), nullptr);
  EXPECT_EQ(match_route(t, "", "h", "api", 1), nullptr);
  EXPECT_EQ(match_route(t, "", "h", "", 1), nullptr);
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api/..x", 1)), "api");
}

TEST(GatewayRoute, HostsCompareCaseInsensitiveIgnoringTrailingDot) {
  RouteTable t({make("acme", "acme.example.com", "/")});
  EXPECT_EQ(name_of(match_route(t, "ACME.example.com.", "", "/", 1)), "acme");
  EXPECT_EQ(name_of(match_route(t, "", "Acme.Example.Com:8443", "/", 1)), "acme");
  EXPECT_EQ(name_of(match_route(t, "", "acme.example.com.", "/", 1)), "acme");
  EXPECT_EQ(match_route(t, "globex.example.com", "", "/", 1), nullptr);
  EXPECT_EQ(match_route(t, "", "", "/", 1), nullptr);
}

TEST(GatewayRoute, WildcardSniMatchesExactlyOneLabel) {
  RouteTable t({make("wild", "*.acme.example.com", "/")});
  EXPECT_EQ(name_of(match_route(t, "edge-1.acme.example.com", "", "/", 1)), "wild");
  EXPECT_EQ(name_of(match_route(t, "EDGE.Acme.Example.Com.", "", "/", 1)), "wild");
  EXPECT_EQ(match_route(t, "acme.example.com", "", "/", 1), nullptr);
  EXPECT_EQ(match_route(t, "a.b.acme.example.com", "", "/", 1), nullptr);
  EXPECT_EQ(match_route(t, ".acme.example.com", "", "/", 1), nullptr);
  EXPECT_EQ(match_route(t, "xacme.example.com", "", "/", 1), nullptr);
}

TEST(GatewayRoute, ExactHostBeatsWildcardBeatsAnyHost) {
  RouteTable t({make("any", "", "/api/v1"), make("wild", "*.example.com", "/"),
                make("exact", "api.example.com", "/")});
  EXPECT_EQ(name_of(match_route(t, "api.example.com", "", "/api/v1", 1)), "exact");
  EXPECT_EQ(name_of(match_route(t, "web.example.com", "", "/api/v1", 1)), "wild");
  EXPECT_EQ(name_of(match_route(t, "other.org", "", "/api/v1", 1)), "any");
  EXPECT_EQ(match_route(t, "other.org", "", "/", 1), nullptr);
}

TEST(GatewayRoute, SniIsUsedOverHostWhenSent) {
  RouteTable t({make("acme", "acme.example.com", "/"), make("globex", "globex.example.com", "/")});
  // The caller refuses the mismatch (421) first; the match itself follows the SNI.
  EXPECT_EQ(name_of(match_route(t, "acme.example.com", "globex.example.com", "/", 1)), "acme");
  EXPECT_FALSE(host_matches_sni("globex.example.com", "acme.example.com"));
  EXPECT_TRUE(host_matches_sni("ACME.example.com.:8443", "acme.example.com"));
  EXPECT_TRUE(host_matches_sni("acme.example.com", "acme.example.com."));
  EXPECT_TRUE(host_matches_sni("[::1]:443", "::1"));
  EXPECT_TRUE(host_matches_sni("anything", ""));
  EXPECT_FALSE(host_matches_sni("", "acme.example.com"));
}

TEST(GatewayRoute, PortRestrictsAndTcpOwnsItsPort) {
  RouteTable t({make("any", "", "/"), make("on-9443", "", "/", 9443),
                make("mqtt", "", "/", 8883, Protocol::tcp)});
  EXPECT_EQ(name_of(match_route(t, "", "h", "/", 443)), "any");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/", 9443)), "on-9443");
  EXPECT_EQ(name_of(match_route(t, "x.example.com", "h", "/anything", 8883)), "mqtt");
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
  EXPECT_EQ(name_of(match_route(t, "", "h", "/api/x", 1)), "api");
  EXPECT_EQ(name_of(match_route(t, "", "h", "/apix", 1)), "root");
}

}  // namespace
}  // namespace tether::gateway

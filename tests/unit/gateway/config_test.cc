#include "gateway/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tether::gateway {
namespace {

constexpr std::string_view kHead = R"(
[listener]
server_cert = "gw.pem"
server_key = "gw-key.pem"
trust = ["ca.pem"]
[store]
path = "tether.db"
)";

constexpr std::string_view kRoute = R"(
[[route]]
name = "api"
upstream = "127.0.0.1:8080"
allow = ["connector:acme/*"]
)";

std::string with(std::string_view extra) {
  return std::string(kHead) + std::string(kRoute) + std::string(extra);
}

// Asserts the config is refused and that the message contains every fragment.
void expect_error(std::string_view toml, std::initializer_list<std::string_view> fragments,
                  Errc code = Errc::invalid_argument) {
  auto r = parse_config(toml, "gw.toml");
  ASSERT_FALSE(r.ok()) << toml;
  EXPECT_EQ(r.error().code, code);
  for (auto f : fragments) {
    EXPECT_NE(r.error().message.find(f), std::string::npos)
        << "missing '" << f << "' in: " << r.error().message;
  }
}

TEST(GatewayConfig, MinimalGetsDefaults) {
  auto r = parse_config(with(""), "gw.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = *r;
  EXPECT_EQ(c.trust_domain, "tether.internal");
  EXPECT_FALSE(c.trust_domain_set);  // the gateway then takes the store's
  EXPECT_EQ(c.listener.address, "127.0.0.1");
  EXPECT_EQ(c.listener.port, 0);
  EXPECT_EQ(c.listener.min_version, TlsVersion::tls1_2);
  EXPECT_EQ(c.limits.handshake_timeout_s, 10);
  EXPECT_EQ(c.limits.header_timeout_s, 10);
  EXPECT_EQ(c.limits.idle_timeout_s, 60);
  EXPECT_EQ(c.limits.max_header_bytes, 16384u);
  EXPECT_EQ(c.limits.max_connections, 10000u);
  EXPECT_EQ(c.limits.max_connections_per_source, 0u);
  EXPECT_FALSE(c.admin.has_value());
  EXPECT_EQ(c.store.poll_interval_ms, 100u);
  EXPECT_EQ(c.store.activity_flush_interval_ms, 5000u);
  EXPECT_EQ(c.tls.session_cache_bytes, 32u << 20);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].protocol, Protocol::http);
  EXPECT_EQ(c.routes[0].match.path_prefix, "/");
  EXPECT_TRUE(c.routes[0].match.sni.empty());
  EXPECT_FALSE(c.routes[0].match.port.has_value());
}

TEST(GatewayConfig, FullConfigReadsEverySetting) {
  auto r = parse_config(R"(
trust_domain = "example.org"
[listener]
address = "0.0.0.0"
port = 8443
server_cert = "gw.pem"
server_key = "gw-key.pem"
trust = ["ca.pem", "tenant-ca.pem"]
min_version = "1.3"
[limits]
handshake_timeout = "5s"
header_timeout = "1m"
idle_timeout = "2m"
max_header_bytes = 8192
max_connections = 50
max_connections_per_source = 7
[admin]
address = "127.0.0.2"
port = 9090
[store]
path = "/var/lib/tether/tether.db"
poll_interval_ms = 50
activity_flush_interval_ms = 250
[[route]]
name = "acme-api"
protocol = "websocket"
upstream = "API.Internal.:443"
match = { sni = "*.Acme.Example.com.", path_prefix = "/api/v1", port = 8443 }
allow = ["connector:acme/edge-1", "tenant:acme", "service:billing", "admin:alice"]
[[route]]
name = "mqtt"
protocol = "tcp"
upstream = "[::1]:1883"
match = { port = 8883 }
allow = ["connector:acme/*"]
)",
                        "gw.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = *r;
  EXPECT_EQ(c.trust_domain, "example.org");
  EXPECT_TRUE(c.trust_domain_set);
  EXPECT_EQ(c.listener.address, "0.0.0.0");
  EXPECT_EQ(c.listener.port, 8443);
  EXPECT_EQ(c.listener.trust, (std::vector<std::string>{"ca.pem", "tenant-ca.pem"}));
  EXPECT_EQ(c.listener.min_version, TlsVersion::tls1_3);
  EXPECT_EQ(c.limits.handshake_timeout_s, 5);
  EXPECT_EQ(c.limits.header_timeout_s, 60);
  EXPECT_EQ(c.limits.idle_timeout_s, 120);
  EXPECT_EQ(c.limits.max_header_bytes, 8192u);
  EXPECT_EQ(c.limits.max_connections, 50u);
  EXPECT_EQ(c.limits.max_connections_per_source, 7u);
  ASSERT_TRUE(c.admin.has_value());
  EXPECT_EQ(c.admin->address, "127.0.0.2");
  EXPECT_EQ(c.admin->port, 9090);
  EXPECT_EQ(c.store.path, "/var/lib/tether/tether.db");
  EXPECT_EQ(c.store.poll_interval_ms, 50u);
  EXPECT_EQ(c.store.activity_flush_interval_ms, 250u);
  ASSERT_EQ(c.routes.size(), 2u);
  const Route& api = c.routes[0];
  EXPECT_EQ(api.protocol, Protocol::websocket);
  EXPECT_EQ(api.upstream_host, "api.internal");
  EXPECT_EQ(api.upstream_port, 443);
  EXPECT_EQ(api.match.sni, "*.acme.example.com");  // canonical: lowercase, no trailing dot
  EXPECT_EQ(api.match.path_prefix, "/api/v1");
  EXPECT_EQ(api.match.port, 8443);
  ASSERT_EQ(api.allow.size(), 4u);
  EXPECT_EQ(api.allow[0].kind, Rule::Kind::connector);
  EXPECT_EQ(api.allow[1].kind, Rule::Kind::tenant);
  EXPECT_EQ(api.allow[2].kind, Rule::Kind::service);
  EXPECT_EQ(api.allow[3].kind, Rule::Kind::admin);
  EXPECT_EQ(c.routes[1].protocol, Protocol::tcp);
  EXPECT_EQ(c.routes[1].upstream_host, "::1");
  EXPECT_EQ(c.routes[1].upstream_port, 1883);
}

TEST(GatewayConfig, ShippedExampleParses) {
  std::ifstream in(TETHER_GATEWAY_EXAMPLE_CONFIG);
  ASSERT_TRUE(in) << TETHER_GATEWAY_EXAMPLE_CONFIG;
  std::stringstream text;
  text << in.rdbuf();
  auto r = parse_config(text.str(), "gateway.example.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->routes.size(), 4u);
  EXPECT_TRUE(r->admin.has_value());
  EXPECT_EQ(r->tls.session_cache_bytes, 32u << 20);
}

TEST(GatewayConfig, SessionCacheSizeInBytesOrBinaryUnits) {
  struct Case {
    std::string value;
    uint64_t bytes;
  };
  std::vector<Case> cases = {
      {"\"64KiB\"", 64u << 10},
      {"\"32MiB\"", 32u << 20},
      {"\"2GiB\"", uint64_t{2} << 30},
      {"\"64GiB\"", uint64_t{64} << 30},
      {"65536", 65536},
      {"16384", 16384},
      {"\"off\"", 0},
      {"0", 0},
      {"\"0KiB\"", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value);
    auto r = parse_config(with("[tls]\nsession_cache_size = " + c.value + "\n"), "gw.toml");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->tls.session_cache_bytes, c.bytes);
  }
}

TEST(GatewayConfig, BadSessionCacheSizesNameTheValueAndTheForms) {
  struct Case {
    std::string value;
    std::vector<std::string_view> fragments;
  };
  std::vector<Case> cases = {
      // nginx's and decimal units are refused rather than guessed at.
      {"\"10m\"", {"= \"10m\"", "not a size", "\"32MiB\"", "\"off\""}},
      {"\"32MB\"", {"= \"32MB\"", "not a size", "powers of 1024"}},
      {"\"32mib\"", {"= \"32mib\"", "not a size"}},
      {"\"32 MiB\"", {"not a size"}},
      {"\"MiB\"", {"not a size"}},
      {"\"65536\"", {"= \"65536\"", "not a size", "without quotes"}},
      {"\"\"", {"not a size"}},
      {"\"1234567890KiB\"", {"not a size"}},
      {"-1", {"= -1", "must not be negative"}},
      {"1.5", {"(a float)", "\"32MiB\""}},
      {"true", {"= true", "\"32MiB\""}},
      {"\"1KiB\"", {"= \"1KiB\"", "at least 16KiB", "\"off\""}},
      {"100", {"= 100", "at least 16KiB"}},
      {"\"65GiB\"", {"= \"65GiB\"", "at most 64GiB"}},
  };
  for (const auto& c : cases) {
    std::string toml = with("[tls]\nsession_cache_size = " + c.value + "\n");
    SCOPED_TRACE(toml);
    auto r = parse_config(toml, "gw.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("gw.toml:14: tls.session_cache_size"), std::string::npos)
        << r.error().message;
    for (auto f : c.fragments) {
      EXPECT_NE(r.error().message.find(f), std::string::npos) << f << " / " << r.error().message;
    }
  }
  expect_error(with("[tls]\nsession_cache = \"32MiB\"\n"),
               {"tls.session_cache", "unknown setting", "session_cache_size"});
  expect_error("tls = \"on\"\n" + with(""), {"tls = \"on\"", "must be a table", "[tls]"});
}

TEST(GatewayConfig, TomlSyntaxErrorNamesSourceAndLine) {
  expect_error("[listener\n", {"gw.toml:1:", "not valid TOML"}, Errc::parse_error);
}

TEST(GatewayConfig, UnknownKeysAreErrors) {
  expect_error(with("[limits]\nidle_timout = \"5s\"\n"),
               {"gw.toml:", "limits.idle_timout", "unknown setting", "idle_timeout"});
  expect_error(with("trust_domian = \"x\"\n"), {"trust_domian", "unknown setting"});
  expect_error(std::string(kHead) + R"(
[[route]]
name = "api"
upstream = "127.0.0.1:8080"
alow = ["connector:acme/*"]
)",
               {"gw.toml:12", "route[0].alow", "unknown setting"});
  expect_error(std::string(kHead) + R"(
[[route]]
name = "api"
upstream = "127.0.0.1:8080"
match = { path = "/api" }
allow = ["connector:acme/*"]
)",
               {"route[0].match.path", "unknown setting", "path_prefix"});
}

TEST(GatewayConfig, BadAllowRuleNamesIndexAndValue) {
  expect_error(with(R"(
[[route]]
name = "b"
upstream = "127.0.0.1:8080"
allow = ["tenant:acme", "connector:Acme/*"]
)"),
               {"gw.toml:17", "route[1].allow[1]", "\"connector:Acme/*\"", "tenant id 'Acme'"});
  expect_error(with(R"(
[[route]]
name = "b"
upstream = "127.0.0.1:8080"
allow = ["user:bob"]
)"),
               {"route[1].allow[0]", "\"user:bob\"", "unknown kind", "connector:<tenant>/*"});
}

TEST(GatewayConfig, EmptyOrMissingAllowIsRefused) {
  expect_error(std::string(kHead) + "[[route]]\nname = \"a\"\nupstream = \"h:1\"\nallow = []\n",
               {"route[0].allow", "must not be empty"});
  expect_error(std::string(kHead) + "[[route]]\nname = \"a\"\nupstream = \"h:1\"\n",
               {"route[0].allow", "is missing"});
}

TEST(GatewayConfig, BadValuesNameSettingAndValue) {
  struct Case {
    std::string extra;
    std::vector<std::string_view> fragments;
  };
  std::vector<Case> cases = {
      {"[limits]\nhandshake_timeout = \"10\"\n",
       {"limits.handshake_timeout", "\"10\"", "not a duration"}},
      {"[limits]\nidle_timeout = \"0s\"\n", {"limits.idle_timeout", "at least 1s"}},
      {"[limits]\nmax_header_bytes = 10\n", {"limits.max_header_bytes = 10", "from 1024"}},
      {"[limits]\nmax_connections = \"5\"\n", {"limits.max_connections = \"5\"", "integer"}},
      {"[admin]\naddress = \"127.0.0.1\"\n", {"admin.port", "is missing"}},
      {"trust_domain = \"Tether\"\n", {"trust_domain = \"Tether\""}},
  };
  for (const auto& c : cases) {
    std::string toml = std::string(c.extra) + with("");
    SCOPED_TRACE(toml);
    std::initializer_list<std::string_view> none = {};
    expect_error(toml, none);
    auto r = parse_config(toml, "gw.toml");
    for (auto f : c.fragments) {
      EXPECT_NE(r.error().message.find(f), std::string::npos) << f << " / " << r.error().message;
    }
  }
}

TEST(GatewayConfig, ProxyProtocolNeedsTrustedBalancers) {
  auto listener = [](std::string_view extra) {
    return "[listener]\nserver_cert = \"a\"\nserver_key = \"b\"\ntrust = [\"c\"]\n" +
           std::string(extra) + "[store]\npath = \"x\"\n" + std::string(kRoute);
  };
  auto c = parse_config(
      listener("proxy_protocol = true\nproxy_protocol_from = [\"10.0.0.0/8\", \"::1\"]\n"),
      "gw.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->listener.proxy_protocol);
  EXPECT_TRUE(c->listener.proxy_protocol_from.contains(boost::asio::ip::make_address("10.9.8.7")));
  EXPECT_TRUE(
      c->listener.proxy_protocol_from.contains(boost::asio::ip::make_address("::ffff:10.0.0.1")));
  EXPECT_TRUE(c->listener.proxy_protocol_from.contains(boost::asio::ip::make_address("::1")));
  EXPECT_FALSE(c->listener.proxy_protocol_from.contains(boost::asio::ip::make_address("11.0.0.1")));
  EXPECT_FALSE(c->listener.proxy_protocol_from.contains(boost::asio::ip::make_address("::2")));
  expect_error(listener("proxy_protocol = true\n"),
               {"listener.proxy_protocol_from", "is missing", "load balancers"});
  expect_error(listener("proxy_protocol = true\nproxy_protocol_from = [\"10.0.0.1/8\"]\n"),
               {"listener.proxy_protocol_from", "\"10.0.0.1/8\" is not an IP address or network"});
  expect_error(listener("proxy_protocol = true\nproxy_protocol_from = [\"lb.internal\"]\n"),
               {"\"lb.internal\" is not an IP address or network"});
  expect_error(listener("proxy_protocol = \"yes\"\n"),
               {"listener.proxy_protocol", "true or false"});
  expect_error(listener("proxy_protocol_from = [\"10.0.0.0/8\"]\n"),
               {"listener.proxy_protocol_from", "set proxy_protocol = true"});
}

TEST(GatewayConfig, ListenerSettingsChecked) {
  expect_error(R"(
[listener]
server_cert = "gw.pem"
server_key = "gw-key.pem"
trust = ["ca.pem"]
min_version = "1.1"
[store]
path = "x.db"
)" + std::string(kRoute),
               {"gw.toml:6", "listener.min_version = \"1.1\"", "\"1.3\""});
  expect_error("[listener]\nserver_cert = \"a\"\ntrust = [\"ca\"]\n[store]\npath = \"x\"\n" +
                   std::string(kRoute),
               {"listener.server_key", "is missing"});
  expect_error(
      "[listener]\nserver_cert = \"a\"\nserver_key = \"k\"\ntrust = []\n" + std::string(kRoute),
      {"listener.trust", "must not be empty"});
  expect_error(
      "[listener]\nserver_cert = \"a\"\nserver_key = \"k\"\ntrust = [\"c\"]\nport = "
      "70000\n[store]\npath = \"x\"\n" +
          std::string(kRoute),
      {"listener.port = 70000", "0 to 65535"});
  expect_error(std::string(kRoute), {"listener", "is missing"});
  expect_error(with("[store]\n"), {"gw.toml:"}, Errc::parse_error);  // a table defined twice
}

TEST(GatewayConfig, StorePollIntervalBoundedForOneSecondRevocation) {
  std::string head(kHead);
  head.replace(head.find("path = \"tether.db\""), 18, "path = \"t.db\"\npoll_interval_ms = 5000");
  expect_error(head + std::string(kRoute), {"store.poll_interval_ms = 5000", "10 to 1000"});
}

TEST(GatewayConfig, ActivityFlushIntervalIsMillisecondsFrom10To60000) {
  auto with_flush = [](std::string_view value) {
    std::string head(kHead);
    head.replace(head.find("path = \"tether.db\""), 18,
                 "path = \"t.db\"\nactivity_flush_interval_ms = " + std::string(value));
    return head + std::string(kRoute);
  };
  auto low = parse_config(with_flush("10"), "gw.toml");
  ASSERT_TRUE(low.ok()) << low.error().message;
  EXPECT_EQ(low->store.activity_flush_interval_ms, 10u);
  expect_error(with_flush("5"), {"store.activity_flush_interval_ms = 5", "10 to 60000"});
  expect_error(with_flush("60001"), {"store.activity_flush_interval_ms = 60001", "10 to 60000"});
  expect_error(with_flush("\"5s\""),
               {"store.activity_flush_interval_ms = \"5s\"", "integer without quotes"});
}

TEST(GatewayConfig, RouteShapeChecked) {
  auto route = [](std::string_view body) {
    return std::string(kHead) + "[[route]]\nname = \"r\"\nallow = [\"tenant:acme\"]\n" +
           std::string(body);
  };
  expect_error(route("upstream = \"localhost\"\n"),
               {"route[0].upstream = \"localhost\"", "host:port"});
  expect_error(route("upstream = \"h:0\"\n"), {"route[0].upstream = \"h:0\""});
  // Address literals are checked by asio's parser at startup, not at the first request.
  expect_error(route("upstream = \"[:]:8080\"\n"),
               {"route[0].upstream = \"[:]:8080\"", "\":\" is not an IPv6 address"});
  expect_error(route("upstream = \"999.1.1.1:80\"\n"),
               {"route[0].upstream = \"999.1.1.1:80\"", "\"999.1.1.1\" is not an IPv4 address"});
  expect_error(route("upstream = \"10.1:80\"\n"), {"\"10.1\" is not an IPv4 address"});
  expect_error(route("upstream = \"a_b.internal:80\"\n"), {"neither an IP address nor a DNS name"});
  expect_error(route("upstream = \"h:65536\"\n"), {"outside 1..65535"});
  expect_error(route("upstream = \"h:1\"\nprotocol = \"grpc\"\n"),
               {"route[0].protocol = \"grpc\"", "\"websocket\""});
  expect_error(route("upstream = \"h:1\"\nmatch = { sni = \"a.*.example.com\" }\n"),
               {"route[0].match.sni = \"a.*.example.com\"", "whole first label"});
  expect_error(route("upstream = \"h:1\"\nmatch = { sni = \"*.com\" }\n"),
               {"route[0].match.sni = \"*.com\""});
  expect_error(route("upstream = \"h:1\"\nmatch = { path_prefix = \"api\" }\n"),
               {"route[0].match.path_prefix = \"api\"", "start with '/'"});
  expect_error(route("upstream = \"h:1\"\nmatch = { path_prefix = \"/api/*\" }\n"),
               {"route[0].match.path_prefix = \"/api/*\"", "no wildcards"});
  expect_error(route("upstream = \"h:1\"\nmatch = { path_prefix = \"/a/../b\" }\n"),
               {"route[0].match.path_prefix = \"/a/../b\"", "'..'"});
  expect_error(route("upstream = \"h:1\"\nmatch = { path_prefix = \"/a;b\" }\n"),
               {"route[0].match.path_prefix = \"/a;b\"", "decoded path"});
  expect_error(route("upstream = \"h:1\"\nmatch = { path_prefix = \"/a%2Fb\" }\n"),
               {"route[0].match.path_prefix = \"/a%2Fb\"", "decoded path"});
  expect_error(std::string(kHead) + "[[route]]\nname = \"Bad_Name\"\n",
               {"route[0].name = \"Bad_Name\"", "route name"});
  expect_error(std::string(kHead) + "[route]\nname = \"r\"\n", {"route", "[[route]]"});
}

TEST(GatewayConfig, TcpRoutesMatchByPortOnly) {
  auto tcp = [](std::string_view match) {
    return std::string(kHead) +
           "[[route]]\nname = \"mqtt\"\nprotocol = \"tcp\"\nupstream = \"h:1883\"\nallow = "
           "[\"tenant:acme\"]\n" +
           std::string(match);
  };
  EXPECT_TRUE(parse_config(tcp("match = { port = 8883 }\n"), "gw.toml").ok());
  expect_error(tcp("match = { port = 8883, path_prefix = \"/\" }\n"),
               {"route[0].match.path_prefix", "port only"});
  expect_error(tcp("match = { port = 8883, sni = \"a.example.com\" }\n"),
               {"route[0].match.sni", "port only"});
  expect_error(tcp(""), {"route[0].match.port", "is missing"});
}

TEST(GatewayConfig, ConflictingRoutesRefused) {
  expect_error(with(kRoute), {"route[1].name = \"api\"", "unique"});
  expect_error(with(R"(
[[route]]
name = "api2"
upstream = "127.0.0.1:8081"
allow = ["tenant:acme"]
)"),
               {"route[1]", "conflicts with route[0]", "same requests"});
  expect_error(with(R"(
[[route]]
name = "t1"
protocol = "tcp"
upstream = "h:1"
match = { port = 9000 }
allow = ["tenant:acme"]
[[route]]
name = "h2"
upstream = "h:1"
match = { port = 9000 }
allow = ["tenant:acme"]
)"),
               {"route[2]", "conflicts with route[1]", "tcp route owns its whole port"});
}

TEST(GatewayConfig, AdminPortMustDifferFromListenerPort) {
  std::string head(kHead);
  head.replace(head.find("[listener]\n"), 11, "[listener]\nport = 8443\n");
  expect_error("[admin]\nport = 8443\n" + head + std::string(kRoute),
               {"admin.port = 8443", "listener.port"});
}

}  // namespace
}  // namespace tether::gateway

// What a reload may change in place, and what it refuses because sockets or threads would have to
// be rebuilt: each refusal names the setting with its running and its new value.
#include <gtest/gtest.h>

#include "gateway/config.h"
#include "gateway/reload_check.h"

namespace tether::gateway {
namespace {

constexpr std::string_view kBase = R"(
workers = 2
[listener]
address = "127.0.0.1"
port = 8443
server_cert = "gw.pem"
server_key = "gw-key.pem"
trust = ["ca.pem"]
[store]
path = "tether.db"
[admin]
address = "127.0.0.1"
port = 9100
[[route]]
name = "api"
upstream = "127.0.0.1:8080"
allow = ["connector:acme/*"]
)";

Config config_with(std::string_view from, std::string_view to) {
  std::string text(kBase);
  if (!from.empty()) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  }
  auto parsed = parse_config(text, "gw.toml");
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : Config{};
}

void expect_restart_needed(std::string_view from, std::string_view to,
                           std::initializer_list<std::string_view> fragments) {
  Status s = check_reloadable(config_with("", ""), config_with(from, to));
  ASSERT_FALSE(s.ok()) << "reload allowed after changing " << from << " to " << to;
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  for (auto f : fragments) {
    EXPECT_NE(s.error().message.find(f), std::string::npos)
        << "missing '" << f << "' in: " << s.error().message;
  }
}

TEST(ReloadChecks, CertificatesTrustRoutesAndLimitsChangeInPlace) {
  Config running = config_with("", "");
  EXPECT_TRUE(check_reloadable(running, config_with("gw.pem", "gw-2.pem")).ok());
  EXPECT_TRUE(check_reloadable(running, config_with("[\"ca.pem\"]", "[\"ca-2.pem\"]")).ok());
  EXPECT_TRUE(check_reloadable(running, config_with("127.0.0.1:8080", "127.0.0.1:8081")).ok());
  EXPECT_TRUE(
      check_reloadable(running, config_with("connector:acme/*", "connector:globex/*")).ok());
}

TEST(ReloadChecks, SocketsThreadsAndTheStoreNeedARestart) {
  expect_restart_needed("address = \"127.0.0.1\"\nport = 8443",
                        "address = \"127.0.0.2\"\nport = 8443",
                        {"listener.address", "127.0.0.1", "127.0.0.2"});
  expect_restart_needed("port = 8443", "port = 8444", {"listener.port", "8443", "8444"});
  expect_restart_needed("workers = 2", "workers = 3", {"workers", "2", "3"});
  expect_restart_needed("path = \"tether.db\"", "path = \"other.db\"",
                        {"store.path", "tether.db", "other.db"});
  expect_restart_needed("port = 9100", "port = 9101", {"[admin]"});
  expect_restart_needed("allow = [\"connector:acme/*\"]",
                        "allow = [\"connector:acme/*\"]\nmatch = { port = 9443 }",
                        {"the set of route ports", "[]", "[9443]"});
}

}  // namespace
}  // namespace tether::gateway

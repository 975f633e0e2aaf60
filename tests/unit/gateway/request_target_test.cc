#include "gateway/request_target.h"

#include <gtest/gtest.h>

namespace tether::gateway {
namespace {

struct Case {
  std::string_view target;
  std::string_view path;     // "" when refused
  std::string_view forward;  // what the upstream receives
};

TEST(RequestTarget, NormalisesToThePathItForwards) {
  const Case cases[] = {
      {"/", "/", "/"},
      {"/api/x", "/api/x", "/api/x"},
      {"/api/x?y=1&z=%2F", "/api/x", "/api/x?y=1&z=%2F"},
      {"/api/x?", "/api/x", "/api/x?"},
      {"/%61pi/%7Ex", "/api/~x", "/api/~x"},  // unreserved octets decoded (RFC 3986 6.2.2.2)
      {"/a%20b", "/a b", "/a%20b"},
      {"/a%c3%a9", "/a\xc3\xa9", "/a%C3%A9"},  // upper-case hex (RFC 3986 6.2.2.1)
      {"/a%3Bb", "/a;b", "/a;b"},
      {"//api//x", "/api/x", "/api/x"},  // empty segments merged
      {"/api/", "/api/", "/api/"},
      {"/api//", "/api/", "/api/"},
      {"/..x/x..", "/..x/x..", "/..x/x.."},
      {"/a%25b", "/a%b", "/a%25b"},
      {"/a%252e%252e/b", "/a%2e%2e/b", "/a%252e%252e/b"},  // decoded once, as upstreams do
  };
  for (const Case& c : cases) {
    auto t = parse_request_target(c.target);
    ASSERT_TRUE(t.ok()) << c.target << ": " << t.error().message;
    EXPECT_EQ(t->path, c.path) << c.target;
    EXPECT_EQ(t->forward, c.forward) << c.target;
    // The forwarded target is a fixed point: parsing it again gives the same path and target.
    auto again = parse_request_target(t->forward);
    ASSERT_TRUE(again.ok()) << t->forward;
    EXPECT_EQ(again->path, t->path);
    EXPECT_EQ(again->forward, t->forward);
  }
}

TEST(RequestTarget, RefusesWhatWouldReadDifferentlyUpstream) {
  struct Refused {
    std::string_view target;
    std::string_view says;
  };
  const Refused cases[] = {
      {"/api/../admin", "dot segment \"..\""},
      {"/api/./x", "dot segment \".\""},
      {"/api/%2e%2e/admin", "dot segment \"%2e%2e\""},
      {"/api/%2E%2E/admin", "dot segment \"%2E%2E\""},
      {"/api/.%2e/admin", "dot segment \".%2e\""},
      {"/api/%2e./admin", "dot segment \"%2e.\""},
      {"/api/%2e/admin", "dot segment \"%2e\""},
      {"/api/..;/admin", "dot segment \"..;\""},
      {"/api/..;x=1/admin", "dot segment \"..;x=1\""},
      {"/api/%2e%2e%3b/admin", "dot segment"},
      {"/api/..", "dot segment"},
      {"/api/..%2fadmin", "encoded '/' or '\\'"},
      {"/api/..%2Fadmin", "encoded '/' or '\\'"},
      {"/api/..%5cadmin", "encoded '/' or '\\'"},
      {"/api/%5C..%5Cadmin", "encoded '/' or '\\'"},
      {"/api/a%00b", "control character"},
      {"/api/a%0d%0aX-Injected:%201", "control character"},
      {"/api/a\\b", "not a valid URI"},
      {"/api/%zz", "not a valid URI"},
      {"/api/%2", "not a valid URI"},
      {"/api/a b", "not a valid URI"},
      {"/api/x#frag", "not a valid URI"},
      {"api/x", "not a path"},
      {"http://acme.test/api", "not a path"},
      {"*", "not a path"},
      {"", "not a path"},
  };
  for (const Refused& c : cases) {
    auto t = parse_request_target(c.target);
    ASSERT_FALSE(t.ok()) << c.target << " was accepted as " << t->forward;
    EXPECT_EQ(t.error().code, Errc::invalid_argument);
    EXPECT_NE(t.error().message.find(c.says), std::string::npos)
        << c.target << ": " << t.error().message;
  }
}

TEST(HostHeader, ParsesNamesAddressesAndPorts) {
  auto h = parse_host_header("ACME.Test.:8443");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->host, "acme.test");
  EXPECT_EQ(h->port, 8443);
  EXPECT_EQ(h->value, "acme.test:8443");
  auto v6 = parse_host_header("[::1]:443");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->value, "[::1]:443");
  auto v4 = parse_host_header("127.0.0.1");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_FALSE(v4->port.has_value());
  auto empty_port = parse_host_header("acme.test:");
  ASSERT_TRUE(empty_port.ok());
  EXPECT_EQ(empty_port->value, "acme.test");
}

TEST(HostHeader, RefusesMalformedValuesNamingThem) {
  for (std::string_view value :
       {"", "acme.test:0", "acme.test:65536", "acme.test:8x", "u@acme.test", "[::1", "::1",
        "[v1.x]", "ac%41me.test", "acme test", "a/b"}) {
    auto h = parse_host_header(value);
    ASSERT_FALSE(h.ok()) << value;
    EXPECT_NE(h.error().message.find("Host header"), std::string::npos) << h.error().message;
  }
}

}  // namespace
}  // namespace tether::gateway

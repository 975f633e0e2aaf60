#include "gateway/forward_headers.h"

#include <gtest/gtest.h>

#include <vector>

namespace tether::gateway {
namespace {

std::vector<std::string> values(const http::fields& f, std::string_view name) {
  std::vector<std::string> out;
  for (auto [it, end] = f.equal_range(name); it != end; ++it) out.emplace_back(it->value());
  return out;
}

const verify::Identity acme = verify::Identity::connector("acme", "edge-1");

TEST(RewriteRequestFields, SpoofedIdentityHeadersAreReplacedByTheGatewaysOwn) {
  http::fields f;
  f.insert("X-Tether-Identity", "connector/globex/evil");
  f.insert("x-tether-identity", "admin/root");
  f.insert("X-TETHER-TENANT", "globex");
  f.insert("X-Tether-Anything", "1");
  f.insert("Accept", "*/*");
  rewrite_request_fields(f, {acme, "connector/acme/edge-1", "ab12", "10.0.0.1", "acme.test"},
                         false);
  EXPECT_EQ(values(f, "X-Tether-Identity"), std::vector<std::string>{"connector/acme/edge-1"});
  EXPECT_EQ(values(f, "X-Tether-Tenant"), std::vector<std::string>{"acme"});
  EXPECT_EQ(values(f, "X-Tether-Cert-Sha256"), std::vector<std::string>{"ab12"});
  EXPECT_TRUE(values(f, "X-Tether-Anything").empty());
  EXPECT_EQ(values(f, "Accept"), std::vector<std::string>{"*/*"});
}

TEST(RewriteRequestFields, ServicesGetNoTenantHeader) {
  http::fields f;
  f.insert("X-Tether-Tenant", "acme");
  verify::Identity service{verify::IdentityKind::service, "", "billing"};
  rewrite_request_fields(f, {service, "service/billing", "ab", "10.0.0.1", "acme.test"}, false);
  EXPECT_TRUE(values(f, "X-Tether-Tenant").empty());
  EXPECT_EQ(values(f, "X-Tether-Identity"), std::vector<std::string>{"service/billing"});
}

TEST(RewriteRequestFields, HopByHopFieldsAndThoseConnectionNamesAreDropped) {
  http::fields f;
  f.insert(http::field::connection, "keep-alive, X-Secret");
  f.insert("X-Secret", "1");
  f.insert(http::field::keep_alive, "timeout=5");
  f.insert(http::field::te, "trailers");
  f.insert(http::field::upgrade, "websocket");
  f.insert(http::field::proxy_authorization, "Basic x");
  f.insert(http::field::expect, "100-continue");
  rewrite_request_fields(f, {acme, "connector/acme/edge-1", "ab", "10.0.0.1", "acme.test"}, false);
  for (auto name :
       {"Connection", "X-Secret", "Keep-Alive", "TE", "Upgrade", "Proxy-Authorization", "Expect"}) {
    EXPECT_TRUE(values(f, name).empty()) << name;
  }
}

TEST(RewriteRequestFields, AnUpgradeKeepsConnectionUpgrade) {
  http::fields f;
  f.insert(http::field::connection, "Upgrade");
  f.insert(http::field::upgrade, "websocket");
  rewrite_request_fields(f, {acme, "connector/acme/edge-1", "ab", "10.0.0.1", "acme.test"}, true);
  EXPECT_EQ(values(f, "Connection"), std::vector<std::string>{"Upgrade"});
  EXPECT_EQ(values(f, "Upgrade"), std::vector<std::string>{"websocket"});
}

TEST(RewriteRequestFields, ClientForwardingFieldsAreReplacedByTheGatewaysOwn) {
  http::fields f;
  f.insert("X-Forwarded-For", "192.0.2.1");
  f.insert("x-forwarded-for", "192.0.2.2");
  f.insert("Forwarded", "for=192.0.2.3;proto=http");
  f.insert("X-Real-IP", "192.0.2.4");
  f.insert("X-Forwarded-Host", "admin.internal");
  f.insert("X-Forwarded-Proto", "http");
  f.insert("X-Forwarded-Port", "80");
  f.insert("X-Forwarded-Prefix", "/admin");
  rewrite_request_fields(f, {acme, "connector/acme/edge-1", "ab", "10.0.0.1", "acme.test"}, false);
  EXPECT_EQ(values(f, "X-Forwarded-For"), std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(values(f, "X-Forwarded-Proto"), std::vector<std::string>{"https"});
  EXPECT_EQ(values(f, "X-Forwarded-Host"), std::vector<std::string>{"acme.test"});
  for (auto name : {"Forwarded", "X-Real-IP", "X-Forwarded-Port", "X-Forwarded-Prefix"}) {
    EXPECT_TRUE(values(f, name).empty()) << name;
  }
}

TEST(RewriteResponseFields, DropsHopByHop) {
  http::fields f;
  f.insert(http::field::connection, "close");
  f.insert(http::field::transfer_encoding, "chunked");
  f.insert(http::field::content_type, "text/plain");
  rewrite_response_fields(f, false);
  EXPECT_TRUE(values(f, "Connection").empty());
  EXPECT_TRUE(values(f, "Transfer-Encoding").empty());
  EXPECT_EQ(values(f, "Content-Type"), std::vector<std::string>{"text/plain"});
}

}  // namespace
}  // namespace tether::gateway

#include "gateway/request_decision.h"

#include <gtest/gtest.h>

#include "gateway/config.h"

namespace tether::gateway {
namespace {

Route route(std::string name, std::string sni, std::string rule_text) {
  Route r;
  r.name = std::move(name);
  r.match.sni = std::move(sni);
  r.upstream_host = "127.0.0.1";
  r.upstream_port = 8080;
  r.allow.push_back(parse_rule(rule_text, "allow").value());
  return r;
}

const RouteTable& table() {
  static const RouteTable t({route("acme-api", "acme.test", "tenant:acme"),
                             route("globex-api", "globex.test", "tenant:globex")});
  return t;
}

const verify::Identity acme = verify::Identity::connector("acme", "edge-1");

TEST(DecideRequest, AllowedIdentityIsProxiedOnItsRoute) {
  RequestDecision d = decide_request(table(), {"/x", "acme.test", 1, "acme.test", 443}, acme);
  ASSERT_TRUE(d.proxy()) << d.reason;
  EXPECT_EQ(d.route->name, "acme-api");
  EXPECT_EQ(d.rule, "tenant:acme");
}

TEST(DecideRequest, AnotherTenantsRouteIsForbiddenByDefaultDeny) {
  RequestDecision d = decide_request(table(), {"/x", "globex.test", 1, "globex.test", 443}, acme);
  EXPECT_EQ(d.status(), 403);
  EXPECT_EQ(errc_reason(d.refusal), "forbidden");
  EXPECT_EQ(d.rule, "default-deny");
  EXPECT_EQ(d.route->name, "globex-api");
  EXPECT_NE(d.reason.find("connector/acme/edge-1"), std::string::npos) << d.reason;
}

TEST(DecideRequest, SniChoosesTheRouteNotTheHostHeader) {
  // SNI names tenant B's host; a Host naming A's own host does not get the request to A's
  // route, and B's rules refuse it.
  RequestDecision d = decide_request(table(), {"/x", "acme.test", 1, "globex.test", 443}, acme);
  EXPECT_EQ(d.status(), 403);
  EXPECT_EQ(d.route->name, "globex-api");
}

TEST(DecideRequest, HostNamingAnotherHostThanTheSniIsMisdirected) {
  RequestDecision d = decide_request(table(), {"/x", "globex.test", 1, "acme.test", 443}, acme);
  EXPECT_EQ(d.status(), 421);
  EXPECT_EQ(errc_reason(d.refusal), "misdirected_request");
  EXPECT_NE(d.reason.find("\"globex.test\""), std::string::npos) << d.reason;
}

TEST(DecideRequest, HostWithPortAndCaseMatchesTheSni) {
  RequestDecision d = decide_request(table(), {"/x", "ACME.test:8443", 1, "acme.test", 8443}, acme);
  EXPECT_TRUE(d.proxy()) << d.reason;
}

TEST(DecideRequest, WithoutSniTheHostHeaderChooses) {
  RequestDecision d = decide_request(table(), {"/x", "globex.test", 1, "", 443}, acme);
  EXPECT_EQ(d.status(), 403);
  EXPECT_EQ(d.route->name, "globex-api");
}

TEST(DecideRequest, MalformedRequestsAreBadRequests) {
  EXPECT_EQ(decide_request(table(), {"http://acme.test/", "acme.test", 1, "acme.test", 443}, acme)
                .status(),
            400);
  EXPECT_EQ(decide_request(table(), {"/", "", 0, "acme.test", 443}, acme).status(), 400);
  RequestDecision two = decide_request(table(), {"/", "acme.test", 2, "acme.test", 443}, acme);
  EXPECT_EQ(two.status(), 400);
  EXPECT_EQ(two.reason, "more than one Host header");
}

TEST(DecideRequest, UnknownHostIsNoRoute) {
  RequestDecision d = decide_request(table(), {"/a?b", "other.test", 1, "other.test", 443}, acme);
  EXPECT_EQ(d.status(), 404);
  EXPECT_EQ(errc_reason(d.refusal), "no_route");
  EXPECT_EQ(d.route, nullptr);
  EXPECT_EQ(d.reason, "no route for host \"other.test\" and path \"/a\"");
}

TEST(DecideRequest, ForwardsTheTargetItRoutedOnAndTheCanonicalHost) {
  RequestDecision d = decide_request(
      table(), {"//%61pi/a%20b/?q=%2e%2e", "ACME.test.:8443", 1, "acme.test", 1}, acme);
  ASSERT_TRUE(d.proxy()) << d.reason;
  EXPECT_EQ(d.target.path, "/api/a b/");
  EXPECT_EQ(d.target.forward, "/api/a%20b/?q=%2e%2e");
  EXPECT_EQ(d.host, "acme.test:8443");
}

TEST(DecideRequest, EncodedDotSegmentIsABadRequestNamingTheSegment) {
  RequestDecision d =
      decide_request(table(), {"/x/%2E%2e/y", "acme.test", 1, "acme.test", 1}, acme);
  EXPECT_EQ(d.status(), 400);
  EXPECT_EQ(errc_reason(d.refusal), "bad_request");
  EXPECT_NE(d.reason.find("dot segment \"%2E%2e\""), std::string::npos) << d.reason;
}

TEST(DecideRequest, ServerNameOfNoHostIsABadRequest) {
  for (std::string_view sni : {".", "acme.test..", "..acme.test", "acme.test:443", "[::1]"}) {
    RequestDecision d = decide_request(table(), {"/x", "acme.test", 1, sni, 443}, acme);
    EXPECT_EQ(d.status(), 400) << sni;
    EXPECT_NE(d.reason.find("is not a host name"), std::string::npos) << d.reason;
  }
  EXPECT_TRUE(decide_request(table(), {"/x", "acme.test", 1, "ACME.test.", 443}, acme).proxy());
}

TEST(DecideRequest, MalformedHostIsABadRequest) {
  for (std::string_view host :
       {"acme.test:99999", "user@acme.test", "acme.test:x", "[::1", "ac%41me.test", "[v1.x]"}) {
    RequestDecision d = decide_request(table(), {"/x", host, 1, "acme.test", 1}, acme);
    EXPECT_EQ(d.status(), 400) << host;
    EXPECT_NE(d.reason.find("Host header"), std::string::npos) << d.reason;
  }
}

TEST(RefusalBody, NamesErrorReasonRouteAndRule) {
  RequestDecision d = decide_request(table(), {"/x", "globex.test", 1, "globex.test", 443}, acme);
  std::string body = refusal_body(d);
  EXPECT_NE(body.find(R"("error":"forbidden")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("route":"globex-api")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("rule":"default-deny")"), std::string::npos) << body;
}

}  // namespace
}  // namespace tether::gateway

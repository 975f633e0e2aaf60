#include "gateway/policy.h"

#include <gtest/gtest.h>

#include "gateway/route.h"

namespace tether::gateway {
namespace {

using verify::Identity;
using verify::IdentityKind;

Rule rule(std::string_view text) {
  auto r = parse_rule(text, "allow[0]");
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().message;
  return r.ok() ? *r : Rule{};
}

Identity service(std::string name) {
  return Identity{IdentityKind::service, "", std::move(name)};
}
Identity admin(std::string name) {
  return Identity{IdentityKind::admin, "", std::move(name)};
}

TEST(GatewayPolicy, ParsesEveryForm) {
  Rule any = rule("connector:acme/*");
  EXPECT_EQ(any.kind, Rule::Kind::connector);
  EXPECT_EQ(any.tenant, "acme");
  EXPECT_EQ(any.name, "*");
  EXPECT_EQ(any.text, "connector:acme/*");
  Rule one = rule("connector:acme/edge-1");
  EXPECT_EQ(one.name, "edge-1");
  EXPECT_EQ(rule("tenant:acme").kind, Rule::Kind::tenant);
  EXPECT_EQ(rule("tenant:acme").tenant, "acme");
  EXPECT_EQ(rule("service:billing").kind, Rule::Kind::service);
  EXPECT_EQ(rule("service:billing").name, "billing");
  EXPECT_EQ(rule("admin:alice").kind, Rule::Kind::admin);
}

TEST(GatewayPolicy, RejectsMalformedRulesNamingThem) {
  struct Case {
    const char* text;
    const char* fragment;
  };
  for (auto [text, fragment] : std::initializer_list<Case>{
           {"acme", "no kind prefix"},
           {"user:bob", "unknown kind 'user'"},
           {"connector:acme", "no '/'"},
           {"connector:*/*", "tenant id '*'"},
           {"connector:acme/edge*", "connector id 'edge*'"},
           {"connector:acme/**", "connector id '**'"},
           {"connector:acme/a/b", "connector id 'a/b'"},
           {"connector:/x", "tenant id ''"},
           {"tenant:a*", "tenant id 'a*'"},
           {"tenant:Acme", "tenant id 'Acme'"},
           {"service:", "service name ''"},
           {"admin:-x", "admin name '-x'"},
           {"", "no kind prefix"},
       }) {
    auto r = parse_rule(text, "route[2].allow[0]");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("route[2].allow[0]"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("\"" + std::string(text) + "\""), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
  }
}

TEST(GatewayPolicy, ConnectorWildcardNeverCrossesTenants) {
  Rule acme_all = rule("connector:acme/*");
  EXPECT_TRUE(allows(acme_all, Identity::connector("acme", "edge-1")));
  EXPECT_TRUE(allows(acme_all, Identity::connector("acme", "edge-2")));
  EXPECT_FALSE(allows(acme_all, Identity::connector("globex", "edge-1")));
  EXPECT_FALSE(allows(acme_all, Identity::connector("acme-corp", "edge-1")));
  EXPECT_FALSE(allows(acme_all, Identity::connector("", "edge-1")));
  EXPECT_FALSE(allows(acme_all, service("acme")));
  EXPECT_FALSE(allows(acme_all, admin("acme")));
  // The literal id "*" is not a wildcard on the identity side.
  EXPECT_FALSE(allows(rule("connector:acme/edge-1"), Identity::connector("acme", "*")));
}

TEST(GatewayPolicy, ConnectorRuleNamesOneConnector) {
  Rule one = rule("connector:acme/edge-1");
  EXPECT_TRUE(allows(one, Identity::connector("acme", "edge-1")));
  EXPECT_FALSE(allows(one, Identity::connector("acme", "edge-2")));
  EXPECT_FALSE(allows(one, Identity::connector("globex", "edge-1")));
}

TEST(GatewayPolicy, TenantRuleAllowsThatTenantsConnectorsOnly) {
  Rule acme = rule("tenant:acme");
  EXPECT_TRUE(allows(acme, Identity::connector("acme", "edge-1")));
  EXPECT_FALSE(allows(acme, Identity::connector("globex", "edge-1")));
  EXPECT_FALSE(allows(acme, service("acme")));
  EXPECT_FALSE(allows(acme, admin("acme")));
  EXPECT_FALSE(allows(acme, Identity{IdentityKind::gateway, "acme", "acme"}));
}

// "tenant:*" is every connector of every tenant (for an echo such as internal:whoami), and
// still never a service, an admin or a gateway.
TEST(GatewayPolicy, EveryTenantRuleAllowsConnectorsOnly) {
  Rule every = rule("tenant:*");
  EXPECT_EQ(every.kind, Rule::Kind::tenant);
  EXPECT_TRUE(allows(every, Identity::connector("acme", "edge-1")));
  EXPECT_TRUE(allows(every, Identity::connector("globex", "edge-9")));
  EXPECT_FALSE(allows(every, service("acme")));
  EXPECT_FALSE(allows(every, admin("acme")));
  EXPECT_FALSE(allows(every, Identity{IdentityKind::gateway, "", "gw-1"}));
}

TEST(GatewayPolicy, ServiceAndAdminRulesMatchKindAndName) {
  EXPECT_TRUE(allows(rule("service:billing"), service("billing")));
  EXPECT_FALSE(allows(rule("service:billing"), service("billing-2")));
  EXPECT_FALSE(allows(rule("service:billing"), admin("billing")));
  EXPECT_FALSE(allows(rule("service:billing"), Identity::connector("billing", "billing")));
  EXPECT_TRUE(allows(rule("admin:alice"), admin("alice")));
  EXPECT_FALSE(allows(rule("admin:alice"), service("alice")));
}

TEST(GatewayPolicy, AuthorizeDefaultDenyNamesIdentityAndRoute) {
  Route route;
  route.name = "acme-api";
  Decision none = authorize(route, Identity::connector("acme", "edge-1"));
  EXPECT_FALSE(none.allowed);  // no rules: deny

  route.allow = {rule("service:billing"), rule("connector:acme/*")};
  Decision yes = authorize(route, Identity::connector("acme", "edge-1"));
  EXPECT_TRUE(yes.allowed);
  EXPECT_EQ(yes.rule, "connector:acme/*");
  EXPECT_NE(yes.reason.find("connector/acme/edge-1"), std::string::npos) << yes.reason;

  Decision no = authorize(route, Identity::connector("globex", "edge-1"));
  EXPECT_FALSE(no.allowed);
  EXPECT_TRUE(no.rule.empty());
  EXPECT_NE(no.reason.find("connector/globex/edge-1"), std::string::npos) << no.reason;
  EXPECT_NE(no.reason.find("'acme-api'"), std::string::npos) << no.reason;
}

}  // namespace
}  // namespace tether::gateway

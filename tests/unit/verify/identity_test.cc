#include "verify/identity.h"

#include <gtest/gtest.h>

namespace tether::verify {
namespace {

TEST(ValidateId, AcceptsLowercaseDigitsAndInnerDashes) {
  EXPECT_TRUE(validate_id("acme", "tenant id").ok());
  EXPECT_TRUE(validate_id("edge-1", "connector id").ok());
  EXPECT_TRUE(validate_id(std::string(63, 'a'), "connector id").ok());
}

TEST(ValidateId, RejectsEachRuleWithTheValueQuoted) {
  struct Case {
    std::string value;
    std::string fragment;
  };
  for (const auto& c : std::vector<Case>{{"", "is empty"},
                                         {std::string(64, 'a'), "is 64 characters long"},
                                         {"A", "contains 'A'"},
                                         {"a/b", "contains '/'"},
                                         {"../x", "contains '.'"},
                                         {"-a", "starts or ends with '-'"},
                                         {"a-", "starts or ends with '-'"},
                                         {"a\nb", "contains '\\x0a'"}}) {
    Status s = validate_id(c.value, "tenant id");
    ASSERT_FALSE(s.ok()) << c.value;
    EXPECT_EQ(s.error().code, Errc::invalid_id);
    EXPECT_NE(s.error().message.find(c.fragment), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("tenant id"), std::string::npos);
  }
}

TEST(Identity, ConnectorNamesFollowDesign) {
  Identity id = Identity::connector("acme", "edge-1");
  EXPECT_EQ(id.common_name(), "connector/acme/edge-1");
  EXPECT_EQ(id.spiffe_uri("tether.internal"),
            "spiffe://tether.internal/tenant/acme/connector/edge-1");
}

TEST(ValidateTrustDomain, RejectsUppercaseAndEmptyLabels) {
  EXPECT_TRUE(validate_trust_domain("tether.internal").ok());
  EXPECT_FALSE(validate_trust_domain("Tether.internal").ok());
  EXPECT_FALSE(validate_trust_domain("a..b").ok());
  EXPECT_FALSE(validate_trust_domain("").ok());
}

}  // namespace
}  // namespace tether::verify

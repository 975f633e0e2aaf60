#include "verify/name_rules.h"

#include <gtest/gtest.h>

namespace tether::verify {
namespace {

TEST(DnsSanSyntax, AcceptsHostNamesAndALeftMostWildcard) {
  EXPECT_TRUE(is_valid_dns_san("example.com"));
  EXPECT_TRUE(is_valid_dns_san("a-b.example.com"));
  EXPECT_TRUE(is_valid_dns_san("*.example.com"));
  EXPECT_TRUE(is_valid_dns_san("localhost"));
  EXPECT_TRUE(is_valid_dns_san("xn--n3h.com"));
}

TEST(DnsSanSyntax, RefusesWhatIsNotAHostName) {
  EXPECT_FALSE(is_valid_dns_san(""));
  EXPECT_FALSE(is_valid_dns_san("foo_bar.example.com"));  // underscore
  EXPECT_FALSE(is_valid_dns_san("-a.example.com"));
  EXPECT_FALSE(is_valid_dns_san("a-.example.com"));
  EXPECT_FALSE(is_valid_dns_san("a..example.com"));
  EXPECT_FALSE(is_valid_dns_san(".example.com"));
  EXPECT_FALSE(is_valid_dns_san("example.com."));
  EXPECT_FALSE(is_valid_dns_san("f*.example.com"));  // partial wildcard
  EXPECT_FALSE(is_valid_dns_san("foo.*.example.com"));
  EXPECT_FALSE(is_valid_dns_san("*"));
  EXPECT_FALSE(is_valid_dns_san("ex ample.com"));
  EXPECT_FALSE(is_valid_dns_san(std::string(64, 'a') + ".com"));  // label over 63
}

TEST(DnsConstraintSyntax, RefusesWildcardsAndLeadingPeriods) {
  EXPECT_TRUE(is_valid_dns_constraint("example.com"));
  EXPECT_FALSE(is_valid_dns_constraint("*.example.com"));
  EXPECT_FALSE(is_valid_dns_constraint(".example.com"));
}

TEST(EmailSanSyntax, NeedsALocalPartAndAHostName) {
  EXPECT_TRUE(is_valid_email_san("foo@example.com"));
  EXPECT_TRUE(is_valid_email_san("*@example.com"));  // a literal asterisk is a valid local part
  EXPECT_FALSE(is_valid_email_san("@example.com"));
  EXPECT_FALSE(is_valid_email_san("foo"));
  EXPECT_FALSE(is_valid_email_san("fo o@example.com"));
  EXPECT_FALSE(is_valid_email_san("foo@bar@example.com"));
  EXPECT_FALSE(is_valid_email_san("foo@exa_mple.com"));
}

TEST(DnsWithin, MatchesTheNameAndItsSubdomainsOnLabelBoundaries) {
  EXPECT_TRUE(dns_within("example.com", "example.com"));
  EXPECT_TRUE(dns_within("bar.example.com", "example.com"));
  EXPECT_TRUE(dns_within("a.b.Example.COM", "example.com"));
  EXPECT_FALSE(dns_within("notexample.com", "example.com"));
  EXPECT_FALSE(dns_within("example.com", "bar.example.com"));
  EXPECT_FALSE(dns_within(".example.com", "example.com"));
}

}  // namespace
}  // namespace tether::verify

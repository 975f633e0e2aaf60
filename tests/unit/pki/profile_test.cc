#include "pki/profile.h"

#include <gtest/gtest.h>

namespace tether::pki {
namespace {

using verify::IdentityKind;

constexpr int64_t kNow = 1800000000;

TEST(Profile, GatewayIsAServerCertificateFromTheServerCa) {
  const KindProfile& p = profile_for(IdentityKind::gateway);
  EXPECT_EQ(p.issuer, IssuerRole::server_ca);
  auto names = ServerNames::parse({"GW.Example.com"}, {"127.0.0.1", "::1"});
  ASSERT_TRUE(names.ok());
  auto spec = leaf_spec({{IdentityKind::gateway, "", "gw-1"}, *names}, "tether.internal", kNow,
                        Days::of(30).value(), false);
  EXPECT_EQ(spec.extended_key_usage, "serverAuth");
  EXPECT_EQ(spec.subject.front().second, "gateway/gw-1");
  EXPECT_TRUE(spec.uri_sans.empty());
  EXPECT_EQ(spec.dns_sans, std::vector<std::string>{"gw.example.com"});
  EXPECT_EQ(spec.ip_sans, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(spec.not_after - spec.not_before, 30 * kSecondsPerDay);
}

TEST(Profile, ServiceAndAdminAreClientCertificatesWithTheirSpiffeId) {
  for (auto [kind, uri] : {std::pair{IdentityKind::service, "spiffe://td.test/service/billing"},
                           std::pair{IdentityKind::admin, "spiffe://td.test/admin/billing"}}) {
    EXPECT_EQ(profile_for(kind).issuer, IssuerRole::connector_ca);
    auto spec = leaf_spec({{kind, "", "billing"}, {}}, "td.test", kNow, Days::of(1).value(), true);
    EXPECT_EQ(spec.extended_key_usage, "clientAuth");
    EXPECT_EQ(spec.uri_sans, std::vector<std::string>{uri});
    EXPECT_TRUE(spec.dns_sans.empty() && spec.ip_sans.empty());
    EXPECT_EQ(spec.key_usage, "digitalSignature,keyEncipherment");
  }
}

TEST(Profile, ConnectorKeepsItsClientProfile) {
  const KindProfile& p = profile_for(IdentityKind::connector);
  EXPECT_EQ(p.issuer, IssuerRole::connector_ca);
  EXPECT_EQ(p.extended_key_usage, "clientAuth");
  EXPECT_EQ(p.default_key_type, x509::KeyType::rsa2048);
}

TEST(Profile, DaysOutOfRangeNameTheFlagAndTheRange) {
  for (int bad : {0, -1, kMaxLeafDays + 1}) {
    auto days = Days::of(bad);
    ASSERT_FALSE(days.ok()) << bad;
    EXPECT_EQ(days.error().code, Errc::invalid_argument);
    EXPECT_NE(days.error().message.find("--days " + std::to_string(bad)), std::string::npos);
    EXPECT_NE(days.error().message.find("use 1 to 825"), std::string::npos);
  }
  EXPECT_EQ(Days::of(kMaxLeafDays)->count(), kMaxLeafDays);
}

TEST(Profile, ServerNamesRefuseWhatIsNotAHostOrAnAddress) {
  auto bad_dns = ServerNames::parse({"not a host"}, {});
  ASSERT_FALSE(bad_dns.ok());
  EXPECT_NE(bad_dns.error().message.find("--dns 'not a host' is not a host name"),
            std::string::npos);
  auto bad_ip = ServerNames::parse({}, {"300.1.1.1"});
  ASSERT_FALSE(bad_ip.ok());
  EXPECT_NE(bad_ip.error().message.find("--ip '300.1.1.1' is not an IP address"),
            std::string::npos);
  auto dup = ServerNames::parse({"a.test", "A.test"}, {"0:0::1", "::1"});
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->dns.size(), 1u);
  EXPECT_EQ(dup->ips, std::vector<std::string>{"::1"});
}

TEST(Profile, NamedKindsAreGatewayServiceAndAdminOnly) {
  EXPECT_EQ(*parse_named_kind("gateway"), IdentityKind::gateway);
  EXPECT_EQ(*parse_named_kind("service"), IdentityKind::service);
  EXPECT_EQ(*parse_named_kind("admin"), IdentityKind::admin);
  auto connector = parse_named_kind("connector");
  ASSERT_FALSE(connector.ok());
  EXPECT_NE(connector.error().message.find("use 'tether connector'"), std::string::npos);
  EXPECT_FALSE(parse_kind("device").ok());
}

}  // namespace
}  // namespace tether::pki

// tether's own checks on a chain OpenSSL accepted: each refusal names its code and the
// certificate at fault; a chain as tether issues it passes them all.
#include "verify/strict_checks.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include "support/test_certificates.h"

namespace tether::verify {
namespace {

using testing::ca_spec;
using testing::issue;
using testing::Issued;

x509::CertificateSpec leaf_spec(std::string eku = "clientAuth") {
  return testing::connector_spec(std::move(eku));
}

// Replaces the certificate's serial and signs it again with the issuer's key, as a CA that
// got serials wrong would have.
void reissue_with_serial(Issued& leaf, const Issued& issuer, long serial) {
  ASN1_INTEGER_set(X509_get_serialNumber(leaf.cert.get()), serial);
  ASSERT_GT(X509_sign(leaf.cert.get(), issuer.key.get(), EVP_sha256()), 0);
}

void expect_refused(const Status& s, Errc code, std::string_view fragment) {
  ASSERT_FALSE(s.ok()) << "accepted; expected " << errc_reason(code);
  EXPECT_EQ(s.error().code, code) << s.error().message;
  EXPECT_NE(s.error().message.find(fragment), std::string::npos)
      << "missing '" << fragment << "' in: " << s.error().message;
}

class StrictChecksTest : public ::testing::Test {
 protected:
  Issued root_ = issue(ca_spec("tether Root CA"), nullptr);
  Issued issuing_ = issue(ca_spec("tether Connector CA"), &root_);
  VerifyOptions client_;  // purpose client, no other demands
};

TEST_F(StrictChecksTest, AChainAsTetherIssuesItPasses) {
  Issued leaf = issue(leaf_spec(), &issuing_);
  Status s = check_chain({leaf.cert.get(), issuing_.cert.get(), root_.cert.get()}, client_);
  EXPECT_TRUE(s.ok()) << s.error().message;
}

TEST_F(StrictChecksTest, ASerialThatIsNotPositiveIsRefused) {
  Issued leaf = issue(leaf_spec(), &issuing_);
  reissue_with_serial(leaf, issuing_, 0);
  expect_refused(check_chain({leaf.cert.get(), issuing_.cert.get(), root_.cert.get()}, client_),
                 Errc::bad_serial, "is not positive (RFC 5280 4.1.2.2)");
  reissue_with_serial(leaf, issuing_, -5);
  expect_refused(check_chain({leaf.cert.get(), issuing_.cert.get(), root_.cert.get()}, client_),
                 Errc::bad_serial, "is not positive");
}

TEST_F(StrictChecksTest, ATrustAnchorLimitedToOtherUsagesCannotVouchForClients) {
  Issued server_only_root = issue(ca_spec("server-only root", "serverAuth"), nullptr);
  Issued leaf = issue(leaf_spec(), &server_only_root);
  expect_refused(check_chain({leaf.cert.get(), server_only_root.cert.get()}, client_),
                 Errc::bad_purpose, "CA's extendedKeyUsage does not include clientAuth");
  VerifyOptions any;
  any.purpose = Purpose::any;
  EXPECT_TRUE(check_chain({leaf.cert.get(), server_only_root.cert.get()}, any).ok());
}

TEST_F(StrictChecksTest, TheCallersDepthLimitCountsIntermediates) {
  Issued leaf = issue(leaf_spec(), &issuing_);
  VerifyOptions limited;
  limited.max_depth = 0;
  expect_refused(check_chain({leaf.cert.get(), issuing_.cert.get(), root_.cert.get()}, limited),
                 Errc::chain_too_long, "path has 1 intermediates, more than the limit of 0");
  limited.max_depth = 1;
  EXPECT_TRUE(check_chain({leaf.cert.get(), issuing_.cert.get(), root_.cert.get()}, limited).ok());
}

TEST_F(StrictChecksTest, TheLeafMustCarryTheUsagesTheCallerAsksFor) {
  Issued leaf = issue(leaf_spec("clientAuth"), &issuing_);
  VerifyOptions wants_server;
  wants_server.extended_key_usages = {"serverAuth"};
  Status s = check_leaf_usages(leaf.cert.get(), wants_server);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::bad_purpose) << s.error().message;
  VerifyOptions wants_client;
  wants_client.extended_key_usages = {"clientAuth"};
  EXPECT_TRUE(check_leaf_usages(leaf.cert.get(), wants_client).ok());
}

}  // namespace
}  // namespace tether::verify

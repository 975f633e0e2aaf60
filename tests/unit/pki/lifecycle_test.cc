#include "pki/lifecycle.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "pki/certificate_authority.h"
#include "pki/file_key_store.h"
#include "store/open.h"
#include "x509/inspect.h"
#include "x509/key.h"
#include "x509/pem.h"

namespace tether::pki {
namespace {

constexpr int64_t kNow = 1800000000;  // 2027-01-15

// A request holds its parsed CSR, so a batch is moved together rather than copied from a list.
template <class... Requests>
std::vector<IssueRequest> batch_of(Requests&&... requests) {
  std::vector<IssueRequest> batch;
  (batch.push_back(std::forward<Requests>(requests)), ...);
  return batch;
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-lifecycle-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(store::open((dir_ / "tether.db").string(), {.create = true})).value();
    auto ca = CertificateAuthority::initialize(
        dir_.string(), *store_,
        [](const std::string& ca_dir) { return std::make_unique<FileKeyStore>(ca_dir, ""); },
        CaInitOptions(), ctx_);
    ASSERT_TRUE(ca.ok()) << ca.error().message;
    ca_ = std::make_unique<CertificateAuthority>(std::move(ca).value());
    auto authority = ca_->issuer(IssuerRole::connector_ca, ctx_);
    ASSERT_TRUE(authority.ok()) << authority.error().message;
    authority_ = *authority;
    ASSERT_TRUE(create_tenant(*store_, ctx_, "acme", "Acme").ok());
  }
  void TearDown() override {
    ca_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  IssueRequest request(std::string id) {
    IssueRequest r;
    r.tenant = "acme";
    r.connector = std::move(id);
    r.profile.key_type = x509::KeyType::ecdsa_p256;
    return r;
  }

  RenewRequest renewal(std::string id) {
    RenewRequest r;
    r.tenant = "acme";
    r.connector = std::move(id);
    return r;
  }

  const store::CertificateRecord& newest(const std::string& id) {
    certs_ = std::move(store_->list_certificates({std::string("acme"), id})).value();
    return *certificate_to_replace(certs_);
  }

  x509::X509ReqPtr csr_for(const std::string& cn) {
    auto key = x509::generate_key(x509::KeyType::ecdsa_p256);
    return std::move(x509::build_csr(key->get(), cn)).value();
  }

  std::filesystem::path dir_;
  Context ctx_{"test", kNow};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<CertificateAuthority> ca_;
  const Authority* authority_ = nullptr;
  std::vector<store::CertificateRecord> certs_;
};

TEST_F(LifecycleTest, CreateRecordsCertificateAndAuditEventTogether) {
  auto issued = create_connector(*store_, *authority_, ctx_, request("edge-1"));
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  ASSERT_NE(issued->private_key, nullptr);
  auto certs = store_->list_certificates({});
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].serial, issued->certificate.serial);
  EXPECT_EQ((*certs)[0].identity, "connector/acme/edge-1");
  auto audit = store_->list_audit(10);
  ASSERT_EQ(audit->front().action, "connector.create");
  EXPECT_EQ(audit->front().serial, issued->certificate.serial);
  EXPECT_EQ(audit->front().actor, "test");
}

TEST_F(LifecycleTest, IssuedAndRenewedCertificatesRecordTheirIssuer) {
  auto created = create_connector(*store_, *authority_, ctx_, request("edge-1"));
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto renewed = renew_connector(*store_, *authority_, ctx_, renewal("edge-1"));
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  std::string issuer = x509::fingerprint_sha256(authority_->issuing());
  auto found = store_->find_certificate_by_serial(renewed->certificate.serial);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->issuer_fingerprint, issuer);
  auto by_issuer = store_->list_certificates_by_issuer(issuer);
  ASSERT_TRUE(by_issuer.ok()) << by_issuer.error().message;
  std::set<std::string> serials;
  for (const auto& c : *by_issuer) serials.insert(c.serial);
  EXPECT_EQ(serials,
            (std::set<std::string>{created->certificate.serial, renewed->certificate.serial}));
}

TEST_F(LifecycleTest, CsrModeIssuesForTheCsrKeyAndKeepsNoPrivateKey) {
  IssueRequest r = request("edge-2");
  r.csr = csr_for("connector/acme/edge-2");
  auto issued = create_connector(*store_, *authority_, ctx_, r);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->private_key, nullptr);
  X509_REQ* csr = r.csr.get();
  auto reparsed = x509::parse_certificate(issued->certificate.pem);
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(reparsed->get()), X509_REQ_get0_pubkey(csr)), 1);
}

TEST_F(LifecycleTest, CsrClaimingAnotherIdentityIsRefused) {
  IssueRequest r = request("edge-3");
  r.csr = csr_for("connector/other/edge-3");
  auto issued = create_connector(*store_, *authority_, ctx_, r);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::csr_identity_mismatch);
  EXPECT_NE(issued.error().message.find("connector/other/edge-3"), std::string::npos);
  EXPECT_FALSE(store_->find_connector("acme", "edge-3")->has_value());
}

TEST_F(LifecycleTest, RenewKeepsTheOldCertificateValid) {
  auto first = create_connector(*store_, *authority_, ctx_, request("edge-1"));
  ASSERT_TRUE(first.ok());
  auto second = renew_connector(*store_, *authority_, ctx_, renewal("edge-1"));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE(first->certificate.serial, second->certificate.serial);
  auto certs = store_->list_certificates({std::string("acme"), std::string("edge-1")});
  ASSERT_EQ(certs->size(), 2u);
  for (const auto& c : *certs) EXPECT_EQ(certificate_status(c, kNow), "active");
}

TEST_F(LifecycleTest, RenewOfUnknownConnectorIsNotFound) {
  auto renewed = renew_connector(*store_, *authority_, ctx_, renewal("ghost"));
  ASSERT_FALSE(renewed.ok());
  EXPECT_EQ(renewed.error().code, Errc::not_found);
  EXPECT_NE(renewed.error().message.find("ghost"), std::string::npos);
}

TEST_F(LifecycleTest, RenewKeepsKeyTypeAndLifetimeOfTheReplacedCertificate) {
  IssueRequest r = request("edge-1");
  r.profile.key_type = x509::KeyType::ecdsa_p384;
  r.profile.days = Days::of(90).value();
  ASSERT_TRUE(create_connector(*store_, *authority_, ctx_, r).ok());
  auto renewed = renew_connector(*store_, *authority_, {"test", kNow + 60}, renewal("edge-1"));
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(renewed->certificate.key_type, "ecdsa-p384");
  EXPECT_EQ(renewed->certificate.not_after - renewed->certificate.not_before, 90 * kSecondsPerDay);
  EXPECT_NE(renewed->private_key, nullptr) << "a CA-made key is made again";
}

TEST_F(LifecycleTest, RenewFlagsOverrideKeyTypeAndLifetime) {
  IssueRequest r = request("edge-1");
  r.profile.days = Days::of(90).value();
  ASSERT_TRUE(create_connector(*store_, *authority_, ctx_, r).ok());
  RenewRequest change = renewal("edge-1");
  change.key_type = x509::KeyType::ecdsa_p384;
  change.days = Days::of(30).value();
  auto renewed = renew_connector(*store_, *authority_, {"test", kNow + 60}, std::move(change));
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(renewed->certificate.key_type, "ecdsa-p384");
  EXPECT_EQ(renewed->certificate.not_after - renewed->certificate.not_before, 30 * kSecondsPerDay);
}

TEST_F(LifecycleTest, RenewKeepsTheNewestUnrevokedCertificatesSettings) {
  IssueRequest r = request("edge-1");
  r.profile.days = Days::of(90).value();
  ASSERT_TRUE(create_connector(*store_, *authority_, ctx_, r).ok());
  RenewRequest shorter = renewal("edge-1");
  shorter.days = Days::of(10).value();
  auto second = renew_connector(*store_, *authority_, {"test", kNow + 60}, std::move(shorter));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(
      revoke_connector(*store_, ctx_, "acme", "edge-1", second->certificate.serial, 4).ok());
  auto third = renew_connector(*store_, *authority_, {"test", kNow + 120}, renewal("edge-1"));
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(third->certificate.not_after - third->certificate.not_before, 90 * kSecondsPerDay)
      << "the revoked 10-day certificate is not the one replaced";
}

TEST_F(LifecycleTest, CsrModeConnectorRenewsOnlyWithACsr) {
  IssueRequest r = request("edge-2");
  r.csr = csr_for("connector/acme/edge-2");
  ASSERT_TRUE(create_connector(*store_, *authority_, ctx_, r).ok());
  auto refused = renew_connector(*store_, *authority_, ctx_, renewal("edge-2"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_NE(refused.error().message.find("connector 'acme/edge-2' makes its own key"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("--csr FILE"), std::string::npos);
  EXPECT_EQ(store_->list_certificates({})->size(), 1u) << "nothing was issued";

  RenewRequest with_csr = renewal("edge-2");
  with_csr.csr = csr_for("connector/acme/edge-2");
  auto renewed = renew_connector(*store_, *authority_, {"test", kNow + 60}, std::move(with_csr));
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(renewed->private_key, nullptr);
  EXPECT_TRUE(newest("edge-2").csr_mode);
}

TEST(LifetimeDays, RoundsToTheNearestDay) {
  store::CertificateRecord c;
  c.not_before = 1000;
  c.not_after = 1000 + 365 * kSecondsPerDay;
  EXPECT_EQ(lifetime_days(c), 365);
  c.not_after = 1000 + 365 * kSecondsPerDay - 100;
  EXPECT_EQ(lifetime_days(c), 365);
}

TEST_F(LifecycleTest, RevokedSerialAppearsInTheNextCrlWithItsReason) {
  auto issued = create_connector(*store_, *authority_, ctx_, request("edge-1"));
  ASSERT_TRUE(issued.ok());
  auto revoked = revoke_connector(*store_, ctx_, "acme", "edge-1", std::nullopt, 1);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  auto crl = issue_crl(*store_, *authority_, ctx_, 86400);
  ASSERT_TRUE(crl.ok()) << crl.error().message;
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl->get());
  ASSERT_EQ(sk_X509_REVOKED_num(entries), 1);
  X509_REVOKED* entry = sk_X509_REVOKED_value(entries, 0);
  EXPECT_EQ(x509::serial_hex(X509_REVOKED_get0_serialNumber(entry)), issued->certificate.serial);
  int crit = 0;
  x509::Asn1EnumeratedPtr reason(static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &crit, nullptr)));
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(ASN1_ENUMERATED_get(reason.get()), 1);
  EXPECT_EQ(X509_CRL_verify(crl->get(), X509_get0_pubkey(authority_->issuing())), 1);
}

TEST_F(LifecycleTest, BatchCreatesEveryConnectorInOneTransaction) {
  std::vector<IssueRequest> batch = batch_of(request("b-1"), request("b-2"), request("b-3"));
  batch[1].csr = csr_for("connector/acme/b-2");
  auto issued = create_connectors(*store_, *authority_, ctx_, batch);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  ASSERT_EQ(issued->size(), 3u);
  EXPECT_NE((*issued)[0].private_key, nullptr);
  EXPECT_EQ((*issued)[1].private_key, nullptr) << "CSR mode keeps no private key";
  EXPECT_EQ(store_->list_certificates({})->size(), 3u);
  size_t creates = 0;
  auto audit = store_->list_audit(100);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit) creates += e.action == "connector.create";
  EXPECT_EQ(creates, 3u);
}

TEST_F(LifecycleTest, BatchWithAnExistingConnectorRecordsNothing) {
  ASSERT_TRUE(create_connector(*store_, *authority_, ctx_, request("taken")).ok());
  auto issued =
      create_connectors(*store_, *authority_, ctx_, batch_of(request("new-1"), request("taken")));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::already_exists);
  EXPECT_NE(issued.error().message.find("'taken'"), std::string::npos);
  EXPECT_FALSE(store_->find_connector("acme", "new-1")->has_value()) << "all or nothing";
  EXPECT_EQ(store_->list_certificates({})->size(), 1u);
}

TEST_F(LifecycleTest, BatchNamingAConnectorTwiceIsRefused) {
  auto issued =
      create_connectors(*store_, *authority_, ctx_, batch_of(request("twin"), request("twin")));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::already_exists);
  EXPECT_NE(issued.error().message.find("twice"), std::string::npos);
  EXPECT_TRUE(store_->list_certificates({})->empty());
}

// The preparing halves: what they check is what the whole operations check, and they sign
// without recording.

TEST_F(LifecycleTest, PrepareSignsButRecordsNothingUntilItsWriteCommits) {
  IssueRequest r = request("prep-1");
  r.csr = csr_for("connector/acme/prep-1");
  auto prepared = prepare_create_connector(*store_, *authority_, ctx_, r);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(prepared->bundle.private_key, nullptr) << "CSR mode keeps no private key";
  EXPECT_EQ(prepared->bundle.issuing, authority_->issuing());
  const std::string& serial = prepared->bundle.certificate.serial;
  EXPECT_FALSE(store_->find_certificate_by_serial(serial)->has_value());
  EXPECT_FALSE(store_->find_connector("acme", "prep-1")->has_value());

  const auto* write = std::get_if<store::NewConnector>(&prepared->write);
  ASSERT_NE(write, nullptr);
  EXPECT_EQ(write->connector.tenant_id, "acme");
  EXPECT_EQ(write->connector.id, "prep-1");
  EXPECT_EQ(write->certificate.serial, serial);
  EXPECT_EQ(write->certificate.pem, prepared->bundle.certificate.pem);
  EXPECT_TRUE(write->certificate.csr_mode);
  EXPECT_EQ(write->event.action, "connector.create");
  EXPECT_EQ(write->event.serial, serial);

  auto results = store_->commit_batch({prepared->write});
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_TRUE(results->front().ok()) << results->front().error().message;
  auto found = store_->find_certificate_by_serial(serial);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->identity, "connector/acme/prep-1");
}

TEST_F(LifecycleTest, PrepareRefusesWhatTheWholeOperationRefuses) {
  ASSERT_TRUE(create_connector(*store_, *authority_, ctx_, request("taken")).ok());
  auto again = prepare_create_connector(*store_, *authority_, ctx_, request("taken"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);

  IssueRequest elsewhere = request("c");
  elsewhere.tenant = "nobody";
  auto no_tenant = prepare_create_connector(*store_, *authority_, ctx_, elsewhere);
  ASSERT_FALSE(no_tenant.ok());
  EXPECT_EQ(no_tenant.error().code, Errc::not_found);

  IssueRequest wrong = request("mine");
  wrong.csr = csr_for("connector/acme/someone-else");
  auto mismatch = prepare_create_connector(*store_, *authority_, ctx_, wrong);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, Errc::csr_identity_mismatch);

  auto unknown = prepare_renew_connector(*store_, *authority_, ctx_, renewal("ghost"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::not_found);
  EXPECT_EQ(store_->list_certificates({})->size(), 1u);
}

TEST_F(LifecycleTest, PreparedRenewalAddsACertificateKeepingTheReplacedSettings) {
  IssueRequest r = request("edge-1");
  r.profile.days = Days::of(30).value();
  ASSERT_TRUE(create_connector(*store_, *authority_, ctx_, r).ok());
  auto prepared = prepare_renew_connector(*store_, *authority_, ctx_, renewal("edge-1"));
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  const auto* write = std::get_if<store::AddedCertificate>(&prepared->write);
  ASSERT_NE(write, nullptr);
  EXPECT_EQ(write->event.action, "connector.renew");
  EXPECT_EQ(lifetime_days(write->certificate), 30);
  EXPECT_EQ(write->certificate.key_type, "ecdsa-p256");
  EXPECT_NE(prepared->bundle.private_key, nullptr) << "a generated key goes into the bundle";
  EXPECT_EQ(store_->list_certificates({std::string("acme"), std::string("edge-1")})->size(), 1u)
      << "nothing recorded by prepare";
}

TEST_F(LifecycleTest, PreparedNamedIssuanceIsANewNamedCertificate) {
  NamedIssueRequest r;
  r.kind = verify::IdentityKind::service;
  r.name = "billing";
  r.profile.key_type = x509::KeyType::ecdsa_p256;
  auto prepared = prepare_issue_named(*ca_, ctx_, r);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  const auto* write = std::get_if<store::NewNamedCertificate>(&prepared->write);
  ASSERT_NE(write, nullptr);
  EXPECT_EQ(write->certificate.kind, "service");
  EXPECT_EQ(write->certificate.name, "billing");
  EXPECT_EQ(write->event.action, "service.issue");
  auto results = store_->commit_batch({prepared->write});
  ASSERT_TRUE(results.ok() && results->front().ok());

  auto renewal_prepared = prepare_renew_named(*store_, *ca_, ctx_, r);
  ASSERT_TRUE(renewal_prepared.ok()) << renewal_prepared.error().message;
  const auto* renewal_write = std::get_if<store::AddedCertificate>(&renewal_prepared->write);
  ASSERT_NE(renewal_write, nullptr);
  EXPECT_EQ(renewal_write->event.action, "service.renew");

  auto twice = prepare_issue_named(*ca_, ctx_, r);
  ASSERT_TRUE(twice.ok()) << "the existing identity is found at the commit";
  auto refused = store_->commit_batch({twice->write});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->front().error().code, Errc::already_exists);
}

TEST(CertificateStatus, ThresholdsFollowThe30DayWarning) {
  store::CertificateRecord c;
  c.not_after = kNow + 31 * kSecondsPerDay;
  EXPECT_EQ(certificate_status(c, kNow), "active");
  c.not_after = kNow + 30 * kSecondsPerDay;
  EXPECT_EQ(certificate_status(c, kNow), "expiring");
  c.not_after = kNow;
  EXPECT_EQ(certificate_status(c, kNow), "expired");
  c.revoked_at = kNow - 1;
  EXPECT_EQ(certificate_status(c, kNow), "revoked");
}

TEST(NormalizeSerial, AcceptsColonsPrefixAndCase) {
  EXPECT_EQ(*normalize_serial("0A:1B:ff"), "0a1bff");
  EXPECT_EQ(*normalize_serial("0x00ab"), "ab");
  EXPECT_EQ(*normalize_serial("a1b"), "0a1b") << "odd-length hex gets a leading 0";
  EXPECT_FALSE(normalize_serial("xyz").ok());
  EXPECT_FALSE(normalize_serial(std::string(42, 'a')).ok());
}

}  // namespace
}  // namespace tether::pki

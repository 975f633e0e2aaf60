// Tenants, connectors and certificates, and the rule that a failed mutation leaves nothing.
#include <gtest/gtest.h>

#include "store_contract.h"

namespace tether::store::contract {
namespace {

std::vector<std::string> serials(const std::vector<CertificateRecord>& certs) {
  std::vector<std::string> out;
  for (const auto& c : certs) out.push_back(c.serial);
  return out;
}

TEST_P(StoreContract, TenantsAreCreatedFoundAndListedById) {
  add_tenant("zeta");
  add_tenant("acme");
  EXPECT_TRUE(*store_->tenant_exists("acme"));
  EXPECT_FALSE(*store_->tenant_exists("nope"));
  auto tenants = store_->list_tenants();
  ASSERT_TRUE(tenants.ok()) << tenants.error().message;
  ASSERT_EQ(tenants->size(), 2u);
  EXPECT_EQ((*tenants)[0].id, "acme");
  EXPECT_EQ((*tenants)[0].name, "Tenant acme");
  EXPECT_EQ((*tenants)[1].id, "zeta");
}

TEST_P(StoreContract, DuplicateTenantIsAlreadyExistsAndLeavesNoAuditEvent) {
  add_tenant("acme");
  Status dup = store_->create_tenant({"acme", "Again", 2}, event("tenant.create"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::already_exists);
  EXPECT_NE(dup.error().message.find("'acme'"), std::string::npos) << dup.error().message;
  EXPECT_EQ(audit_count(), 1u);
  EXPECT_EQ(store_->list_tenants()->front().name, "Tenant acme");
}

TEST_P(StoreContract, ConnectorsAreFoundAndListedByTenantThenId) {
  add_tenant("acme");
  add_tenant("beta");
  add_connector("beta", "b1", "0b01");
  add_connector("acme", "c2", "0a02");
  add_connector("acme", "c1", "0a01");
  auto found = store_->find_connector("acme", "c1");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->tenant_id, "acme");
  EXPECT_EQ((*found)->id, "c1");
  EXPECT_FALSE(store_->find_connector("beta", "c1")->has_value()) << "connectors are per tenant";

  auto all = store_->list_connectors(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "c1");
  EXPECT_EQ((*all)[1].id, "c2");
  EXPECT_EQ((*all)[2].tenant_id, "beta");
  auto acme = store_->list_connectors(std::string("acme"));
  ASSERT_EQ(acme->size(), 2u);
}

TEST_P(StoreContract, DuplicateConnectorIsAlreadyExistsAndRecordsNothing) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  size_t events = audit_count();
  Status dup = store_->create_connector({"acme", "c1", 2}, certificate("02", "acme", "c1"),
                                        event("connector.create", "02"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::already_exists);
  EXPECT_NE(dup.error().message.find("'c1'"), std::string::npos) << dup.error().message;
  EXPECT_FALSE(store_->find_certificate_by_serial("02")->has_value());
  EXPECT_EQ(audit_count(), events);
}

TEST_P(StoreContract, ConnectorOfAMissingTenantIsNotFoundAndRecordsNothing) {
  Status s = store_->create_connector({"nope", "c1", 1}, certificate("01", "nope", "c1"),
                                      event("connector.create", "01"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::not_found);
  EXPECT_NE(s.error().message.find("tenant 'nope'"), std::string::npos) << s.error().message;
  EXPECT_TRUE(store_->list_certificates({})->empty());
  EXPECT_EQ(audit_count(), 0u);
}

TEST_P(StoreContract, CertificateOfAMissingConnectorIsNotFoundAndRecordsNothing) {
  add_tenant("acme");
  Status s = store_->add_certificate(certificate("01", "acme", "ghost"), event("connector.renew"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::not_found);
  EXPECT_NE(s.error().message.find("acme/ghost"), std::string::npos) << s.error().message;
  EXPECT_FALSE(store_->find_certificate_by_serial("01")->has_value());
  EXPECT_EQ(audit_count(), 1u);
}

TEST_P(StoreContract, CertificateIsFoundBySerialWithEveryField) {
  add_tenant("acme");
  CertificateRecord want = certificate("0abc", "acme", "c1", "issuer-x");
  want.not_before = 1111;
  want.not_after = 2222;
  want.issued_at = 1234;
  want.csr_mode = true;
  ASSERT_TRUE(store_->create_connector({"acme", "c1", 1}, want, event("connector.create")).ok());
  auto got = store_->find_certificate_by_serial("0abc");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  const CertificateRecord& c = **got;
  EXPECT_EQ(c.serial, "0abc");
  EXPECT_EQ(c.tenant_id, "acme");
  EXPECT_EQ(c.connector_id, "c1");
  EXPECT_EQ(c.identity, want.identity);
  EXPECT_EQ(c.subject, want.subject);
  EXPECT_EQ(c.key_type, "ecdsa-p256");
  EXPECT_EQ(c.not_before, 1111);
  EXPECT_EQ(c.not_after, 2222);
  EXPECT_EQ(c.fingerprint, "fp-0abc");
  EXPECT_EQ(c.pem, "pem-0abc");
  EXPECT_EQ(c.issued_at, 1234);
  EXPECT_TRUE(c.csr_mode);
  EXPECT_EQ(c.issuer_fingerprint, "issuer-x");
  EXPECT_FALSE(c.revoked_at.has_value());
  EXPECT_FALSE(store_->find_certificate_by_serial("0abd")->has_value());
}

TEST_P(StoreContract, FindBySerialShowsTheRevocation) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  ASSERT_TRUE(
      store_->revoke("acme", "c1", std::nullopt, 4, 1500, event("certificate.revoke")).ok());
  auto got = store_->find_certificate_by_serial("01");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revoked_at, 1500);
  EXPECT_EQ((*got)->revocation_reason, 4);
}

TEST_P(StoreContract, CertificatesAreListedByIssuerInIssueOrder) {
  add_tenant("acme");
  add_connector("acme", "c1", "01", "issuer-a");
  add_connector("acme", "c2", "02", "issuer-b");
  CertificateRecord renewed = certificate("03", "acme", "c1", "issuer-a");
  renewed.issued_at = 1500;
  ASSERT_TRUE(store_->add_certificate(renewed, event("connector.renew")).ok());
  CertificateRecord earlier = certificate("00", "acme", "c2", "issuer-a");
  earlier.issued_at = 900;
  ASSERT_TRUE(store_->add_certificate(earlier, event("connector.renew")).ok());

  auto by_a = store_->list_certificates_by_issuer("issuer-a");
  ASSERT_TRUE(by_a.ok()) << by_a.error().message;
  EXPECT_EQ(serials(*by_a), (std::vector<std::string>{"00", "01", "03"}));
  EXPECT_EQ(serials(*store_->list_certificates_by_issuer("issuer-b")),
            std::vector<std::string>{"02"});
  EXPECT_TRUE(store_->list_certificates_by_issuer("issuer-c")->empty());
}

TEST_P(StoreContract, CertificatesAreListedByTenantAndConnector) {
  add_tenant("acme");
  add_tenant("beta");
  add_connector("acme", "c1", "01");
  add_connector("acme", "c2", "02");
  add_connector("beta", "c1", "03");
  EXPECT_EQ(serials(*store_->list_certificates({})), (std::vector<std::string>{"01", "02", "03"}));
  EXPECT_EQ(serials(*store_->list_certificates({std::string("acme"), std::nullopt})),
            (std::vector<std::string>{"01", "02"}));
  EXPECT_EQ(serials(*store_->list_certificates({std::string("beta"), std::string("c1")})),
            std::vector<std::string>{"03"});
}

TEST_P(StoreContract, DuplicateSerialIsASerialCollisionAndRollsBackTheWholeConnector) {
  add_tenant("acme");
  add_connector("acme", "c1", "0a");
  size_t events = audit_count();
  CertificateRecord clash = certificate("0a", "acme", "c2");
  clash.fingerprint = "other";
  Status s = store_->create_connector({"acme", "c2", 1}, clash, event("connector.create"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::serial_collision);
  EXPECT_NE(s.error().message.find("serial 0a"), std::string::npos) << s.error().message;
  EXPECT_FALSE(store_->find_connector("acme", "c2")->has_value()) << "connector row must roll back";
  EXPECT_EQ(audit_count(), events);
}

TEST_P(StoreContract, DuplicateFingerprintIsAlreadyExists) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  CertificateRecord same_cert = certificate("02", "acme", "c1");
  same_cert.fingerprint = "fp-01";
  Status s = store_->add_certificate(same_cert, event("connector.renew"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::already_exists);
  EXPECT_NE(s.error().message.find("fingerprint fp-01"), std::string::npos) << s.error().message;
}

TEST_P(StoreContract, FailingBatchRecordsNoConnectorNoCertificateAndNoAuditEvent) {
  add_tenant("acme");
  add_connector("acme", "c0", "00");
  size_t events = audit_count();
  std::vector<NewConnector> batch;
  batch.push_back({{"acme", "c1", 1}, certificate("01", "acme", "c1"), event("connector.create")});
  batch.push_back({{"acme", "c2", 1}, certificate("02", "acme", "c2"), event("connector.create")});
  // The third clashes with c0's serial: the whole batch must go.
  CertificateRecord clash = certificate("00", "acme", "c3");
  clash.fingerprint = "fp-c3";
  batch.push_back({{"acme", "c3", 1}, clash, event("connector.create")});
  Status s = store_->create_connectors(batch);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::serial_collision);
  EXPECT_EQ(store_->list_connectors(std::string("acme"))->size(), 1u);
  EXPECT_EQ(store_->list_certificates({})->size(), 1u);
  EXPECT_EQ(audit_count(), events);

  batch.pop_back();
  ASSERT_TRUE(store_->create_connectors(batch).ok());
  EXPECT_EQ(store_->list_connectors(std::string("acme"))->size(), 3u);
  EXPECT_EQ(audit_count(), events + 2);
}

}  // namespace
}  // namespace tether::store::contract

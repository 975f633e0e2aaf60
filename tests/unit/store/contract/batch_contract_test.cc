// commit_batch: many issuances in one transaction, each write failing alone.
#include <gtest/gtest.h>

#include <algorithm>

#include "store_contract.h"

namespace tether::store::contract {
namespace {

// The first certificate of connector `c.tenant_id`/`c.connector_id`, as a batch write.
NewConnector new_connector(CertificateRecord c) {
  ConnectorRecord connector{c.tenant_id, c.connector_id, 1};
  AuditEvent event{1000, "contract", "connector.create", "", c.serial, ""};
  return NewConnector{std::move(connector), std::move(c), std::move(event)};
}

// `c` made a certificate of the named identity kind/name.
CertificateRecord named(CertificateRecord c, const std::string& kind, const std::string& name) {
  c.tenant_id.clear();
  c.connector_id.clear();
  c.kind = kind;
  c.name = name;
  c.identity = kind + "/" + name;
  c.subject = "CN=" + c.identity;
  return c;
}

AuditEvent issued(const std::string& action, const std::string& serial) {
  return AuditEvent{1000, "contract", action, "", serial, ""};
}

std::vector<std::string> audited_serials(Store& store) {
  std::vector<std::string> serials;
  auto events = store.list_audit(1000).value();
  for (const auto& e : events) {
    if (!e.serial.empty()) serials.push_back(e.serial);
  }
  std::sort(serials.begin(), serials.end());
  return serials;
}

TEST_P(StoreContract, BatchRecordsEveryKindOfIssuanceWithItsAuditEvent) {
  add_tenant("acme");
  std::vector<IssuanceWrite> batch;
  batch.push_back(new_connector(certificate("b1", "acme", "edge-1")));
  batch.push_back(NewNamedCertificate{named(certificate("b2", "", ""), "service", "api"),
                                      issued("service.issue", "b2")});
  // A renewal of the connector the same batch created: writes apply in order.
  batch.push_back(
      AddedCertificate{certificate("b3", "acme", "edge-1"), issued("connector.renew", "b3")});
  batch.push_back(AddedCertificate{named(certificate("b4", "", ""), "service", "api"),
                                   issued("service.renew", "b4")});

  auto results = store_->commit_batch(batch);
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->size(), 4u);
  for (const auto& r : *results) EXPECT_TRUE(r.ok()) << r.error().message;

  auto other = open_handle();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->list_certificates({std::string("acme"), std::string("edge-1")})->size(), 2u);
  CertificateFilter service;
  service.kind = "service";
  service.name = "api";
  EXPECT_EQ(other->list_certificates(service)->size(), 2u);
  EXPECT_EQ(audited_serials(*other), (std::vector<std::string>{"b1", "b2", "b3", "b4"}));
}

TEST_P(StoreContract, FailingWriteInABatchIsRolledBackAloneWithItsReason) {
  add_tenant("acme");
  add_connector("acme", "taken", "t1");
  Status first = store_->create_named_certificate(named(certificate("n1", "", ""), "gateway", "gw"),
                                                  issued("gateway.issue", "n1"));
  ASSERT_TRUE(first.ok()) << first.error().message;

  std::vector<IssuanceWrite> batch;
  batch.push_back(new_connector(certificate("k1", "acme", "ok-1")));
  batch.push_back(new_connector(certificate("f1", "acme", "taken")));  // the connector exists
  batch.push_back(new_connector(certificate("f2", "gone", "c")));      // the tenant does not
  batch.push_back(AddedCertificate{certificate("f3", "acme", "nobody"),
                                   issued("connector.renew", "f3")});  // no such connector
  batch.push_back(NewNamedCertificate{named(certificate("f4", "", ""), "gateway", "gw"),
                                      issued("gateway.issue", "f4")});  // gw has one
  CertificateRecord clash = certificate("t1", "acme", "clash");         // serial taken
  clash.fingerprint = "fp-other";
  batch.push_back(new_connector(clash));
  batch.push_back(new_connector(certificate("k2", "acme", "ok-2")));
  batch.push_back(new_connector(certificate("f5", "acme", "ok-2")));  // made earlier in this batch

  auto results = store_->commit_batch(batch);
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->size(), batch.size());
  auto code = [&](size_t i) { return (*results)[i].ok() ? Errc::ok : (*results)[i].error().code; };
  EXPECT_EQ(code(0), Errc::ok);
  EXPECT_EQ(code(1), Errc::already_exists);
  EXPECT_NE((*results)[1].error().message.find("taken"), std::string::npos);
  EXPECT_EQ(code(2), Errc::not_found);
  EXPECT_NE((*results)[2].error().message.find("gone"), std::string::npos);
  EXPECT_EQ(code(3), Errc::not_found);
  EXPECT_EQ(code(4), Errc::already_exists);
  EXPECT_EQ(code(5), Errc::serial_collision);
  EXPECT_EQ(code(6), Errc::ok);
  EXPECT_EQ(code(7), Errc::already_exists);

  auto other = open_handle();
  ASSERT_TRUE(other);
  auto connectors = other->list_connectors(std::nullopt).value();
  std::vector<std::string> ids;
  for (const auto& c : connectors) ids.push_back(c.tenant_id + "/" + c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"acme/ok-1", "acme/ok-2", "acme/taken"}));
  for (const char* serial : {"f1", "f2", "f3", "f4", "f5"}) {
    EXPECT_FALSE(other->find_certificate_by_serial(serial)->has_value()) << serial;
  }
  // Only the committed writes' events, beside those of the set-up.
  EXPECT_EQ(audited_serials(*other), (std::vector<std::string>{"k1", "k2", "n1", "t1"}));
}

TEST_P(StoreContract, EmptyBatchCommitsNothing) {
  auto results = store_->commit_batch({});
  ASSERT_TRUE(results.ok()) << results.error().message;
  EXPECT_TRUE(results->empty());
  EXPECT_EQ(audit_count(), 0u);
}

TEST_P(StoreContract, SingleWritesStillCommitOnTheirOwnAfterABatch) {
  add_tenant("acme");
  auto results = store_->commit_batch({new_connector(certificate("s1", "acme", "a"))});
  ASSERT_TRUE(results.ok()) << results.error().message;
  // The handle is out of the batch: this write is its own transaction again, visible at once.
  add_connector("acme", "b", "s2");
  auto other = open_handle();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->list_connectors(std::string("acme"))->size(), 2u);
}

}  // namespace
}  // namespace tether::store::contract

// The CA's settings and reading the audit log.
#include <gtest/gtest.h>

#include "store_contract.h"

namespace tether::store::contract {
namespace {

TEST_P(StoreContract, SettingsRoundTripAndAreAuditedTogether) {
  EXPECT_FALSE(store_->get_setting("trust_domain")->has_value());
  AuditEvent init = event("ca.init");
  init.detail = R"({"trust_domain":"example.test"})";
  Status s = store_->record_ca_init(
      {{"trust_domain", "example.test"}, {"ca_key_type", "ecdsa-p256"}}, init);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(store_->get_setting("trust_domain")->value_or(""), "example.test");
  EXPECT_EQ(store_->get_setting("ca_key_type")->value_or(""), "ecdsa-p256");
  EXPECT_FALSE(store_->get_setting("nothing")->has_value());
  auto other = open_handle();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->get_setting("trust_domain")->value_or(""), "example.test");
  auto events = store_->list_audit(10);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].action, "ca.init");
  EXPECT_EQ((*events)[0].detail, init.detail);
}

TEST_P(StoreContract, SecondCaInitIsAlreadyExistsAndChangesNothing) {
  ASSERT_TRUE(store_->record_ca_init({{"trust_domain", "one.test"}}, event("ca.init")).ok());
  Status again = store_->record_ca_init({{"issuing_sha256", "abc"}, {"trust_domain", "two.test"}},
                                        event("ca.init"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_EQ(store_->get_setting("trust_domain")->value_or(""), "one.test");
  EXPECT_FALSE(store_->get_setting("issuing_sha256")->has_value()) << "partly applied";
  EXPECT_EQ(audit_count(), 1u);
}

TEST_P(StoreContract, AuditIsListedNewestFirstWithEveryField) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  AuditEvent renew{
      1500, "cli:alice", "connector.renew", "connector/acme/c1", "02", R"({"key_type":"rsa2048"})"};
  ASSERT_TRUE(store_->add_certificate(certificate("02", "acme", "c1"), renew).ok());
  // Recorded order, not `at`: this event says it happened earlier than the one before it.
  AuditEvent late_clock{10, "cli:bob", "tenant.create", "tenant/beta", "", ""};
  ASSERT_TRUE(store_->create_tenant({"beta", "Beta", 10}, late_clock).ok());

  auto all = store_->list_audit(10);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].action, "tenant.create");
  EXPECT_EQ((*all)[0].actor, "cli:bob");
  EXPECT_EQ((*all)[1].action, "connector.renew");
  EXPECT_EQ((*all)[2].action, "connector.create");
  EXPECT_EQ((*all)[3].action, "tenant.create");
  const AuditEvent& got = (*all)[1];
  EXPECT_EQ(got.at, 1500);
  EXPECT_EQ(got.actor, "cli:alice");
  EXPECT_EQ(got.identity, "connector/acme/c1");
  EXPECT_EQ(got.serial, "02");
  EXPECT_EQ(got.detail, renew.detail);
  EXPECT_EQ((*all)[3].detail, "{}") << "an empty detail is stored as an empty JSON object";

  auto newest_two = store_->list_audit(2);
  ASSERT_EQ(newest_two->size(), 2u);
  EXPECT_EQ((*newest_two)[0].actor, "cli:bob");
  EXPECT_EQ((*newest_two)[1].actor, "cli:alice");
}

}  // namespace
}  // namespace tether::store::contract

// What gateways record (activity_log.h): certificate presentations and handshake counts per
// minute, added up across batches and handles.
#include <gtest/gtest.h>

#include <thread>

#include "store_contract.h"

namespace tether::store::contract {
namespace {

std::string describe(const std::vector<HandshakeCount>& rows) {
  std::string out;
  for (const auto& r : rows) {
    out += std::to_string(r.minute) + " " + r.outcome + "/" + r.reason + " " +
           std::to_string(r.count) + "; ";
  }
  return out;
}

TEST_P(StoreContract, HandshakeCountsAddUpPerMinuteOutcomeAndReason) {
  Status first = store_->add_handshake_counts({{120, "ok", "ok", 3},
                                               {120, "refused", "unknown_issuer", 1},
                                               {180, "refused", "revoked", 2}});
  ASSERT_TRUE(first.ok()) << first.error().message;
  Status second = store_->add_handshake_counts(
      {{120, "ok", "ok", 2}, {180, "refused", "revoked", 1}, {180, "refused", "expired", 4}});
  ASSERT_TRUE(second.ok()) << second.error().message;

  auto rows = store_->handshake_counts(0, 1000);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 4u) << describe(*rows);
  auto expect = [&](size_t i, int64_t minute, const char* outcome, const char* reason,
                    int64_t count) {
    const HandshakeCount& r = (*rows)[i];
    EXPECT_EQ(r.minute, minute) << i;
    EXPECT_EQ(r.outcome, outcome) << i;
    EXPECT_EQ(r.reason, reason) << i;
    EXPECT_EQ(r.count, count) << i;
  };
  // By minute, then outcome, then reason.
  expect(0, 120, "ok", "ok", 5);
  expect(1, 120, "refused", "unknown_issuer", 1);
  expect(2, 180, "refused", "expired", 4);
  expect(3, 180, "refused", "revoked", 3);
}

TEST_P(StoreContract, HandshakeCountsAreKeyedByTheMinuteTheirTimeFallsIn) {
  ASSERT_TRUE(store_->add_handshake_counts({{125, "ok", "ok", 1}, {179, "ok", "ok", 1}}).ok());
  auto rows = store_->handshake_counts(0, 1000);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u) << describe(*rows);
  EXPECT_EQ((*rows)[0].minute, 120);
  EXPECT_EQ((*rows)[0].count, 2);
}

TEST_P(StoreContract, HandshakeCountsAreReadForMinutesFromSinceUntilBeforeUntil) {
  ASSERT_TRUE(store_
                  ->add_handshake_counts({{60, "ok", "ok", 1},
                                          {120, "ok", "ok", 2},
                                          {180, "ok", "ok", 3},
                                          {240, "ok", "ok", 4}})
                  .ok());
  auto rows = store_->handshake_counts(120, 240);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u) << describe(*rows);
  EXPECT_EQ((*rows)[0].minute, 120);
  EXPECT_EQ((*rows)[1].minute, 180);
  auto none = store_->handshake_counts(300, 600);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty()) << describe(*none);
}

TEST_P(StoreContract, HandshakeCountBatchWithABadEntryRecordsNothing) {
  Status bad_outcome =
      store_->add_handshake_counts({{60, "ok", "ok", 1}, {60, "maybe", "unknown_issuer", 1}});
  ASSERT_FALSE(bad_outcome.ok());
  EXPECT_EQ(bad_outcome.error().code, Errc::invalid_argument);
  EXPECT_NE(bad_outcome.error().message.find("\"maybe\""), std::string::npos)
      << bad_outcome.error().message;

  Status zero = store_->add_handshake_counts({{60, "ok", "ok", 1}, {60, "refused", "revoked", 0}});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, Errc::invalid_argument);

  Status no_reason = store_->add_handshake_counts({{60, "refused", "", 1}});
  ASSERT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.error().code, Errc::invalid_argument);

  auto rows = store_->handshake_counts(0, 1000);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_TRUE(rows->empty()) << "partly applied: " << describe(*rows);
}

TEST_P(StoreContract, HandshakeCountsFromConcurrentHandlesAllAddUp) {
  // Two gateways (or a gateway and `tether server`) write the same rows at once.
  constexpr int kBatches = 20;
  auto writer = [this](std::unique_ptr<Store> handle) {
    for (int i = 0; i < kBatches; ++i) {
      Status s = handle->add_handshake_counts({{60, "ok", "ok", 1}, {60, "refused", "revoked", 2}});
      EXPECT_TRUE(s.ok()) << s.error().message;
    }
  };
  auto a = open_handle();
  auto b = open_handle();
  ASSERT_TRUE(a && b);
  std::thread ta(writer, std::move(a));
  std::thread tb(writer, std::move(b));
  ta.join();
  tb.join();
  auto rows = store_->handshake_counts(0, 1000);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u) << describe(*rows);
  EXPECT_EQ((*rows)[0].reason, "ok");
  EXPECT_EQ((*rows)[0].count, 2 * kBatches);
  EXPECT_EQ((*rows)[1].reason, "revoked");
  EXPECT_EQ((*rows)[1].count, 2 * 2 * kBatches);
}

TEST_P(StoreContract, PresentationsKeepTheLatestTimeOfKnownSerials) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  ASSERT_TRUE(store_->add_certificate(certificate("02", "acme", "c1"), event("renew")).ok());
  Status s = store_->record_presentations({{"01", 1500}, {"01", 1400}, {"ee", 1600}});
  ASSERT_TRUE(s.ok()) << "an older time and an unknown serial are not errors: "
                      << s.error().message;
  auto other = open_handle();
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->record_presentations({{"01", 1450}, {"02", 1700}}).ok());

  auto one = store_->find_certificate_by_serial("01");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->last_presented_at, std::optional<int64_t>(1500)) << "the later time wins";
  auto two = store_->find_certificate_by_serial("02");
  ASSERT_TRUE(two.ok() && two->has_value());
  EXPECT_EQ((*two)->last_presented_at, std::optional<int64_t>(1700));
  auto unknown = store_->find_certificate_by_serial("ee");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value()) << "a presentation never creates a certificate";
}

}  // namespace
}  // namespace tether::store::contract

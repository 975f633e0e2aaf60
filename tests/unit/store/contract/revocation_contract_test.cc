// Revocation, the revocation feed (order, cursor, push after commit) and CRL numbers.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "store_contract.h"

namespace tether::store::contract {
namespace {

// Follows the feed from `cursor` in pages of `page`, as a gateway does.
std::vector<RevocationEntry> follow(RevocationFeed& feed, int64_t cursor, int page) {
  std::vector<RevocationEntry> seen;
  for (;;) {
    auto entries = feed.revocations_after(cursor, page);
    EXPECT_TRUE(entries.ok()) << entries.error().message;
    if (!entries.ok() || entries->empty()) return seen;
    EXPECT_LE(entries->size(), static_cast<size_t>(page));
    for (const auto& e : *entries) {
      EXPECT_GT(e.cursor, cursor) << "cursors only grow";
      cursor = e.cursor;
      seen.push_back(e);
    }
  }
}

std::vector<std::string> serials_of(const std::vector<RevocationEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.serial);
  return out;
}

TEST_P(StoreContract, RevokeMarksOnlyUnrevokedCertificatesAndAuditsEach) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  ASSERT_TRUE(
      store_->add_certificate(certificate("02", "acme", "c1"), event("connector.renew")).ok());
  size_t events = audit_count();
  auto one = store_->revoke("acme", "c1", std::string("02"), 1, 1500, event("certificate.revoke"));
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(*one, std::vector<std::string>{"02"});
  EXPECT_EQ(audit_count(), events + 1);

  auto again =
      store_->revoke("acme", "c1", std::string("02"), 1, 1600, event("certificate.revoke"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::not_found);
  EXPECT_NE(again.error().message.find("02"), std::string::npos) << again.error().message;
  EXPECT_EQ(audit_count(), events + 1) << "a failed revocation records no event";

  auto rest = store_->revoke("acme", "c1", std::nullopt, 4, 1700, event("certificate.revoke"));
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, std::vector<std::string>{"01"});
  auto latest = store_->list_audit(1);
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].action, "certificate.revoke");
  EXPECT_EQ((*latest)[0].serial, "01") << "each revoked certificate gets its own event";
  auto certs = store_->list_certificates({std::string("acme"), std::string("c1")});
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  for (const auto& c : *certs) EXPECT_TRUE(c.revoked_at.has_value()) << c.serial;
  auto none = store_->revoke("acme", "c1", std::nullopt, 4, 1800, event("certificate.revoke"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::not_found);
}

TEST_P(StoreContract, FeedGivesEachRevocationOnceInCommitOrder) {
  add_tenant("acme");
  for (int i = 1; i <= 5; ++i) add_connector("acme", "c" + std::to_string(i), std::to_string(i));
  EXPECT_TRUE(store_->revocations_after(0, 10)->empty());
  for (const char* id : {"c3", "c1", "c5"}) {
    ASSERT_TRUE(
        store_->revoke("acme", id, std::nullopt, 1, 1500, event("certificate.revoke")).ok());
  }
  auto seen = follow(*store_, 0, 2);
  EXPECT_EQ(serials_of(seen), (std::vector<std::string>{"3", "1", "5"}));

  // From the last cursor: only what came after, each once.
  int64_t cursor = seen.back().cursor;
  EXPECT_TRUE(store_->revocations_after(cursor, 10)->empty());
  for (const char* id : {"c4", "c2"}) {
    ASSERT_TRUE(
        store_->revoke("acme", id, std::nullopt, 1, 1600, event("certificate.revoke")).ok());
  }
  EXPECT_EQ(serials_of(follow(*store_, cursor, 1)), (std::vector<std::string>{"4", "2"}));
  // A cursor in the middle resumes after it.
  EXPECT_EQ(serials_of(follow(*store_, seen[0].cursor, 10)),
            (std::vector<std::string>{"1", "5", "4", "2"}));
}

TEST_P(StoreContract, FeedOfAnotherHandleSeesCommittedRevocations) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  auto gateway = open_handle();
  ASSERT_TRUE(gateway);
  ASSERT_TRUE(
      store_->revoke("acme", "c1", std::nullopt, 1, 1500, event("certificate.revoke")).ok());
  EXPECT_EQ(serials_of(follow(*gateway, 0, 10)), std::vector<std::string>{"01"});
}

// What a listener saw, handed from the thread that calls it to the test.
struct Pushes {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<int64_t> cursors;
  std::vector<std::vector<std::string>> visible;  // what a fresh handle read at each push

  bool wait_for(size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return cursors.size() >= n; });
  }
};

TEST_P(StoreContract, PushTellsListenersOfEveryHandleAfterTheRevocationCommits) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  add_connector("acme", "c2", "02");
  auto gateway = open_handle();
  ASSERT_TRUE(gateway);
  Pushes pushes;
  Subscription subscription = gateway->subscribe([&](int64_t cursor) {
    // A fresh handle, owned by the calling thread: if the commit had not happened yet, this
    // other connection could not see the revocation.
    auto reader = factory_();
    std::vector<std::string> visible;
    if (reader) visible = serials_of(follow(**reader, 0, 10));
    std::lock_guard lock(pushes.mutex);
    pushes.cursors.push_back(cursor);
    pushes.visible.push_back(std::move(visible));
    pushes.changed.notify_all();
  });
  if (!subscription) GTEST_SKIP() << GetParam().name << " does not push revocations";

  ASSERT_TRUE(
      store_->revoke("acme", "c1", std::nullopt, 1, 1500, event("certificate.revoke")).ok());
  ASSERT_TRUE(pushes.wait_for(1)) << "no push within 10 s of the revocation";
  ASSERT_TRUE(
      store_->revoke("acme", "c2", std::nullopt, 1, 1600, event("certificate.revoke")).ok());
  ASSERT_TRUE(pushes.wait_for(2)) << "no push within 10 s of the second revocation";

  auto feed = follow(*gateway, 0, 10);
  ASSERT_EQ(feed.size(), 2u);
  std::lock_guard lock(pushes.mutex);
  EXPECT_EQ(pushes.cursors[0], feed[0].cursor) << "the push names the newest committed cursor";
  EXPECT_EQ(pushes.cursors[1], feed[1].cursor);
  EXPECT_EQ(pushes.visible[0], std::vector<std::string>{"01"}) << "pushed before the commit";
  EXPECT_EQ(pushes.visible[1], (std::vector<std::string>{"01", "02"}));
}

TEST_P(StoreContract, CancelledSubscriptionIsNotCalledAgain) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  add_connector("acme", "c2", "02");
  Pushes pushes;
  Subscription subscription = store_->subscribe([&](int64_t cursor) {
    std::lock_guard lock(pushes.mutex);
    pushes.cursors.push_back(cursor);
    pushes.changed.notify_all();
  });
  if (!subscription) GTEST_SKIP() << GetParam().name << " does not push revocations";
  ASSERT_TRUE(
      store_->revoke("acme", "c1", std::nullopt, 1, 1500, event("certificate.revoke")).ok());
  ASSERT_TRUE(pushes.wait_for(1)) << "no push within 10 s of the revocation";
  subscription.reset();
  EXPECT_FALSE(subscription);
  ASSERT_TRUE(
      store_->revoke("acme", "c2", std::nullopt, 1, 1600, event("certificate.revoke")).ok());
  std::lock_guard lock(pushes.mutex);
  EXPECT_EQ(pushes.cursors.size(), 1u) << "called after the subscription was cancelled";
}

TEST_P(StoreContract, CrlNumbersGrowByOneAndTheSnapshotListsEveryRevocation) {
  add_tenant("acme");
  add_connector("acme", "c1", "01");
  add_connector("acme", "c2", "02");
  auto first = store_->next_crl(event("crl.issue"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->crl_number, 1u);
  EXPECT_TRUE(first->revoked.empty());
  ASSERT_TRUE(
      store_->revoke("acme", "c2", std::nullopt, 5, 1500, event("certificate.revoke")).ok());
  auto second = store_->next_crl(event("crl.issue"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->crl_number, 2u);
  ASSERT_EQ(second->revoked.size(), 1u);
  EXPECT_EQ(second->revoked[0].serial, "02");
  EXPECT_EQ(second->revoked[0].revoked_at, 1500);
  EXPECT_EQ(second->revoked[0].revocation_reason, 5);
  auto other = open_handle();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->next_crl(event("crl.issue"))->crl_number, 3u) << "shared by every handle";
  auto latest = store_->list_audit(1);
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].action, "crl.issue") << "each CRL number taken is audited";
}

}  // namespace
}  // namespace tether::store::contract

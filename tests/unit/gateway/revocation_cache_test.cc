#include "gateway/revocation_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "store/migrations.h"
#include "store/open.h"
#include "store/sqlite_store.h"

namespace tether::gateway {
namespace {

class RevocationCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-revocation-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = open();
    ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<store::Store> open() {
    return std::move(store::open((dir_ / "tether.db").string(), {.create = true})).value();
  }
  static store::AuditEvent event(std::string action) { return {1, "test", action, "", "", ""}; }

  // A connector with one certificate whose serial is `serial`.
  void add_connector(const std::string& id, const std::string& serial) {
    store::CertificateRecord c;
    c.serial = serial;
    c.tenant_id = "acme";
    c.connector_id = id;
    c.identity = "connector/acme/" + id;
    c.subject = "CN=" + c.identity;
    c.key_type = "ecdsa-p256";
    c.not_before = 1;
    c.not_after = 2;
    c.fingerprint = "fp-" + serial;
    c.pem = "pem";
    ASSERT_TRUE(store_->create_connector({"acme", id, 1}, c, event("connector.create")).ok());
  }
  void revoke(const std::string& id) {
    ASSERT_TRUE(store_->revoke("acme", id, std::nullopt, 1, 5, event("certificate.revoke")).ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(RevocationCacheTest, RefreshAppliesEachRevocationOnceAndReportsNewOnes) {
  std::vector<std::string> reported;
  RevocationCache cache([&](const std::vector<std::string>& s) {
    reported.insert(reported.end(), s.begin(), s.end());
  });
  add_connector("c1", "a1");
  add_connector("c2", "b2");
  ASSERT_TRUE(cache.refresh(*store_).ok());
  EXPECT_FALSE(cache.is_revoked("a1"));
  EXPECT_EQ(cache.status().loaded, 0u);

  revoke("c1");
  ASSERT_TRUE(cache.refresh(*store_).ok());
  EXPECT_TRUE(cache.is_revoked("a1"));
  EXPECT_FALSE(cache.is_revoked("b2"));
  EXPECT_EQ(reported, std::vector<std::string>{"a1"});

  ASSERT_TRUE(cache.refresh(*store_).ok());
  EXPECT_EQ(reported.size(), 1u) << "a revocation is reported once";
  revoke("c2");
  ASSERT_TRUE(cache.refresh(*store_).ok());
  EXPECT_TRUE(cache.is_revoked("b2"));
  EXPECT_EQ(cache.status().loaded, 2u);
  EXPECT_GT(cache.status().last_sync_ms, 0);
  EXPECT_TRUE(cache.status().last_error.empty());
}

TEST_F(RevocationCacheTest, UnreadableStoreKeepsTheLastKnownSetAndSaysSo) {
  RevocationCache cache;
  add_connector("c1", "a1");
  revoke("c1");
  ASSERT_TRUE(cache.refresh(*store_).ok());
  // Make the feed unreadable for this connection.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "ALTER TABLE revocation_log RENAME TO moved", nullptr, nullptr, nullptr),
      SQLITE_OK);
  Status s = cache.refresh(*store_);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(cache.is_revoked("a1")) << "the last known set stays in force";
  EXPECT_NE(cache.status().last_error.find("revocation"), std::string::npos)
      << cache.status().last_error;
  ASSERT_EQ(
      sqlite3_exec(db, "ALTER TABLE moved RENAME TO revocation_log", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  EXPECT_TRUE(cache.refresh(*store_).ok());
  EXPECT_TRUE(cache.status().last_error.empty());
}

// The feed as another process sees it: it reads, and is never pushed to.
class PollOnlyFeed final : public store::RevocationFeed {
 public:
  explicit PollOnlyFeed(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}
  Result<std::vector<store::RevocationEntry>> revocations_after(int64_t cursor,
                                                                int limit) override {
    return store_->revocations_after(cursor, limit);
  }

 private:
  std::unique_ptr<store::Store> store_;
};

TEST_F(RevocationCacheTest, PollerSeesARevocationMadeThroughAnotherConnection) {
  add_connector("c1", "a1");
  auto cache = std::make_shared<RevocationCache>();
  RevocationPoller poller(cache, std::make_unique<PollOnlyFeed>(open()),
                          std::chrono::milliseconds(20));
  revoke("c1");  // through the test's own connection, as another process would
  // Bounded wait: the 1 s revocation bound of the gateway issue, with room for a loaded machine.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!cache->is_revoked("a1") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(cache->is_revoked("a1")) << "the poller did not apply the revocation within 10 s";
}

TEST_F(RevocationCacheTest, PollerAppliesAPushedRevocationWithoutWaitingForItsInterval) {
  add_connector("c0", "a0");
  add_connector("c1", "a1");
  revoke("c0");
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> reported;
  auto cache = std::make_shared<RevocationCache>([&](const std::vector<std::string>& serials) {
    std::lock_guard lock(mutex);
    reported.insert(reported.end(), serials.begin(), serials.end());
    changed.notify_all();
  });
  // An interval no test waits out: only a push can bring the second revocation in time.
  RevocationPoller poller(cache, open(), std::chrono::hours(1));
  auto seen = [&](size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return reported.size() >= n; });
  };
  ASSERT_TRUE(seen(1)) << "the poller's first read did not happen within 10 s";
  revoke("c1");  // another handle in this process, as `tether server`'s CA holds
  ASSERT_TRUE(seen(2)) << "the pushed revocation was not applied within 10 s";
  EXPECT_TRUE(cache->is_revoked("a1"));
  std::lock_guard lock(mutex);
  EXPECT_EQ(reported, (std::vector<std::string>{"a0", "a1"}));
}

TEST_F(RevocationCacheTest, FeedCursorAdvancesPastEachRevocation) {
  add_connector("c1", "a1");
  revoke("c1");
  auto entries = store_->revocations_after(0, 100);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].serial, "a1");
  EXPECT_TRUE(store_->revocations_after((*entries)[0].cursor, 100)->empty());
}

TEST(RevocationFeedMigration, BackfillsRevocationsMadeBeforeTheFeedExisted) {
  auto dir = std::filesystem::temp_directory_path() /
             ("tether-feed-migration-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "tether.db").string();
  // A store as schema version 1 left it, with one revocation.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string v1(store::sqlite_migrations()[0]);
  v1 += R"sql(
    PRAGMA user_version = 1;
    INSERT INTO tenants VALUES ('acme', 'Acme', 1);
    INSERT INTO connectors VALUES ('acme', 'c1', 1);
    INSERT INTO certificates VALUES ('a1', 'acme', 'c1', 'connector/acme/c1', 'CN=x', 'rsa2048',
                                     1, 2, 'revoked', 'fp', 'pem', 1, 0);
    INSERT INTO revocations VALUES ('a1', 1, 5);
  )sql";
  ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto store = store::SqliteStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  RevocationCache cache;
  ASSERT_TRUE(cache.refresh(**store).ok());
  EXPECT_TRUE(cache.is_revoked("a1"));
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tether::gateway

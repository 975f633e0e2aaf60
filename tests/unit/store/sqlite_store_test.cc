// What is particular to the SQLite adapter: its schema and migrations, its file, its lock. What
// every adapter must do is in contract/.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "store/migrations.h"
#include "store/sqlite_handles.h"

namespace tether::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = SqliteStore::open((dir_ / "tether.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  AuditEvent event(std::string action) {
    return AuditEvent{1000, "test", std::move(action), "", "", ""};
  }

  CertificateRecord cert(std::string serial, std::string tenant, std::string id) {
    CertificateRecord c;
    c.serial = serial;
    c.tenant_id = tenant;
    c.connector_id = id;
    c.identity = "connector/" + tenant + "/" + id;
    c.subject = "CN=" + c.identity;
    c.key_type = "rsa2048";
    c.not_before = 1000;
    c.not_after = 2000;
    c.fingerprint = "fp-" + serial;
    c.pem = "pem";
    c.issued_at = 1000;
    return c;
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, FreshStoreIsAtCurrentSchemaVersion) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), SqliteStore::schema_version());
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, RefusesAStoreFromANewerTether) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto reopened = SqliteStore::open((dir_ / "tether.db").string());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, Errc::store_schema_too_new);
  EXPECT_NE(reopened.error().message.find("999"), std::string::npos);
}

TEST_F(SqliteStoreTest, AuditEventsAreAppendOnly) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &db), SQLITE_OK);
  char* raw_err = nullptr;
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit_events", nullptr, nullptr, &raw_err), SQLITE_OK);
  SqliteMessage err(raw_err);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err.get()).find("append-only"), std::string::npos);
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit_events SET actor = 'x'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, MigrationRecordsTheOneIssuingCaAsIssuerOfEarlierCertificates) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "v2.db").c_str(), &db), SQLITE_OK);
  // A store as schema version 2 left it: one CA, one certificate.
  std::string v2 = std::string(sqlite_migrations()[0]) + std::string(sqlite_migrations()[1]);
  v2 += R"sql(
    PRAGMA user_version = 2;
    INSERT INTO settings VALUES ('issuing_sha256', 'abcdef');
    INSERT INTO tenants VALUES ('acme', 'Acme', 1);
    INSERT INTO connectors VALUES ('acme', 'c1', 1);
    INSERT INTO certificates VALUES ('a1', 'acme', 'c1', 'connector/acme/c1', 'CN=x', 'rsa2048',
                                     1, 2, 'active', 'fp', 'pem', 1, 0);
  )sql";
  ASSERT_EQ(sqlite3_exec(db, v2.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto reopened = SqliteStore::open((dir_ / "v2.db").string());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  auto found = (*reopened)->find_certificate_by_serial("a1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->issuer_fingerprint, "abcdef");
  EXPECT_EQ((*reopened)->list_certificates_by_issuer("abcdef")->size(), 1u);
}

TEST_F(SqliteStoreTest, WriterWaitsForAnotherConnectionsTransaction) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  // The other connection holds the write lock for a while, far below the busy timeout; the
  // store's write waits for it instead of failing with store_busy.
  std::thread release([other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  auto started = std::chrono::steady_clock::now();
  Status s = store_->create_tenant({"beta", "Beta", 1}, event("tenant.create"));
  auto waited = std::chrono::steady_clock::now() - started;
  release.join();
  sqlite3_close(other);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(200)) << "written while the other held the lock";
}

TEST_F(SqliteStoreTest, PushReachesHandlesOpenedThroughAnotherSpellingOfThePath) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  ASSERT_TRUE(
      store_
          ->create_connector({"acme", "c1", 1}, cert("01", "acme", "c1"), event("connector.create"))
          .ok());
  auto other = SqliteStore::open((dir_ / "." / "tether.db").string());
  ASSERT_TRUE(other.ok()) << other.error().message;
  int64_t pushed = 0;
  Subscription subscription = (*other)->subscribe([&](int64_t cursor) { pushed = cursor; });
  ASSERT_TRUE(subscription);
  ASSERT_TRUE(store_->revoke("acme", "c1", std::nullopt, 1, 1500, event("revoke")).ok());
  EXPECT_GT(pushed, 0) << "the listener of the same file is called before revoke() returns";
}

TEST_F(SqliteStoreTest, PushDoesNotCrossToAnotherDatabaseFile) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  ASSERT_TRUE(
      store_
          ->create_connector({"acme", "c1", 1}, cert("01", "acme", "c1"), event("connector.create"))
          .ok());
  auto elsewhere = SqliteStore::open((dir_ / "other.db").string());
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.error().message;
  bool called = false;
  Subscription subscription = (*elsewhere)->subscribe([&](int64_t) { called = true; });
  ASSERT_TRUE(store_->revoke("acme", "c1", std::nullopt, 1, 1500, event("revoke")).ok());
  EXPECT_FALSE(called);
}

TEST_F(SqliteStoreTest, RecordsTheLatestPresentationOfEachCertificate) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  ASSERT_TRUE(store_
                  ->create_connector({"acme", "edge-1", 1}, cert("0a01", "acme", "edge-1"),
                                     event("connector.create"))
                  .ok());
  ASSERT_TRUE(
      store_->add_certificate(cert("0a02", "acme", "edge-1"), event("connector.renew")).ok());
  ASSERT_TRUE(store_->record_presentations({{"0a01", 1500}, {"0a01", 1400}, {"ffff", 1600}}).ok())
      << "an older time and an unknown serial are not errors";
  auto certs = store_->list_certificates({});
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].last_presented_at, std::optional<int64_t>(1500)) << "the later time wins";
  EXPECT_FALSE((*certs)[1].last_presented_at.has_value()) << "never presented: unknown";
}

TEST_F(SqliteStoreTest, MigrationGivesOddLengthSerialsALeadingZeroEverywhere) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  ASSERT_TRUE(store_
                  ->create_connector({"acme", "edge-1", 1}, cert("abc", "acme", "edge-1"),
                                     event("connector.create"))
                  .ok());
  ASSERT_TRUE(store_->revoke("acme", "edge-1", std::string("abc"), 1, 1200, event("revoke")).ok());
  store_.reset();
  // Back to schema 3, as a store written before serials were made even-length: the tables of
  // migrations 4 and 6 go (5 rebuilds a table, which it can do again).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE certificate_presentations; DROP TABLE sessions; "
                         "DROP TABLE api_tokens; DROP TABLE login_failures; DROP TABLE users; "
                         "PRAGMA user_version = 3;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto reopened = SqliteStore::open((dir_ / "tether.db").string());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  auto certs = (*reopened)->list_certificates({});
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].serial, "0abc");
  EXPECT_TRUE((*certs)[0].revoked_at.has_value()) << "the revocation follows the serial";
  auto feed = (*reopened)->revocations_after(0, 10);
  ASSERT_EQ(feed->size(), 1u);
  EXPECT_EQ((*feed)[0].serial, "0abc");
}

}  // namespace
}  // namespace tether::store

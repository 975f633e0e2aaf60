#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

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

TEST_F(SqliteStoreTest, DuplicateTenantIsAlreadyExistsAndLeavesNoAuditEvent) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  Status dup = store_->create_tenant({"acme", "Acme", 2}, event("tenant.create"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::already_exists);
  EXPECT_EQ(store_->list_audit(10)->size(), 1u);
}

TEST_F(SqliteStoreTest, ConnectorNeedsItsTenant) {
  Status s = store_->create_connector({"nope", "c1", 1}, cert("01", "nope", "c1"),
                                      event("connector.create"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::store_error);
  EXPECT_TRUE(store_->list_certificates({})->empty());
  EXPECT_TRUE(store_->list_audit(10)->empty());
}

TEST_F(SqliteStoreTest, DuplicateSerialRollsBackTheWholeConnector) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  ASSERT_TRUE(
      store_
          ->create_connector({"acme", "c1", 1}, cert("0a", "acme", "c1"), event("connector.create"))
          .ok());
  CertificateRecord clash = cert("0a", "acme", "c2");
  clash.fingerprint = "other";
  Status s = store_->create_connector({"acme", "c2", 1}, clash, event("connector.create"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::serial_collision);
  EXPECT_NE(s.error().message.find("serial 0a"), std::string::npos);
  EXPECT_FALSE(store_->find_connector("acme", "c2")->has_value()) << "connector row must roll back";
  EXPECT_EQ(store_->list_audit(10)->size(), 2u);
}

TEST_F(SqliteStoreTest, RevokeMarksOnlyActiveCertificatesAndAuditsEach) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  ASSERT_TRUE(
      store_
          ->create_connector({"acme", "c1", 1}, cert("01", "acme", "c1"), event("connector.create"))
          .ok());
  ASSERT_TRUE(store_->add_certificate(cert("02", "acme", "c1"), event("connector.renew")).ok());
  auto revoked =
      store_->revoke("acme", "c1", std::string("02"), 1, 1500, event("certificate.revoke"));
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  EXPECT_EQ(*revoked, std::vector<std::string>{"02"});
  auto again =
      store_->revoke("acme", "c1", std::string("02"), 1, 1600, event("certificate.revoke"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::not_found);
  auto rest = store_->revoke("acme", "c1", std::nullopt, 4, 1700, event("certificate.revoke"));
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, std::vector<std::string>{"01"});
  auto certs = store_->list_certificates({std::string("acme"), std::string("c1")});
  ASSERT_EQ(certs->size(), 2u);
  for (const auto& c : *certs) ASSERT_TRUE(c.revoked_at.has_value()) << c.serial;
  auto crl = store_->next_crl(event("crl.issue"));
  ASSERT_TRUE(crl.ok());
  EXPECT_EQ(crl->crl_number, 1u);
  EXPECT_EQ(crl->revoked.size(), 2u);
  EXPECT_EQ(store_->next_crl(event("crl.issue"))->crl_number, 2u) << "crlNumber is monotonic";
}

TEST_F(SqliteStoreTest, AuditEventsAreAppendOnly) {
  ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event("tenant.create")).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit_events", nullptr, nullptr, &err), SQLITE_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("append-only"), std::string::npos);
  sqlite3_free(err);
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit_events SET actor = 'x'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
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
  // Back to schema 2, as a store written before serials were made even-length.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE certificate_presentations; PRAGMA user_version = 2;",
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

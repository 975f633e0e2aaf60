#include "store/open.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace tether::store {
namespace {

class OpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-open-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "with space");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Opens `uri`, records a tenant, and says whether the file at `file` now holds it.
  void expect_opens_file(const std::string& uri, const std::filesystem::path& file) {
    auto opened = open(uri, {.create = true});
    ASSERT_TRUE(opened.ok()) << uri << ": " << opened.error().message;
    ASSERT_TRUE(
        (*opened)->create_tenant({"acme", "Acme", 1}, {1, "t", "tenant.create", "", "", ""}).ok());
    opened->reset();
    auto again = open(file.string());
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(*(*again)->tenant_exists("acme")) << uri << " did not open " << file;
  }

  std::filesystem::path dir_;
};

TEST_F(OpenTest, PlainPathOpensTheSqliteFile) {
  expect_opens_file((dir_ / "plain.db").string(), dir_ / "plain.db");
}

TEST_F(OpenTest, SqliteUriWithAbsolutePathOpensThatFile) {
  expect_opens_file("sqlite://" + (dir_ / "abs.db").string(), dir_ / "abs.db");
  expect_opens_file("sqlite:" + (dir_ / "short.db").string(), dir_ / "short.db");
}

TEST_F(OpenTest, SqliteUriPathIsPercentDecoded) {
  expect_opens_file("sqlite://" + dir_.string() + "/with%20space/x.db", dir_ / "with space/x.db");
}

TEST_F(OpenTest, SqliteUriWithRelativePathIsRelativeToTheWorkingDirectory) {
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  expect_opens_file("sqlite:rel.db", dir_ / "rel.db");
  std::filesystem::current_path(cwd);
}

TEST_F(OpenTest, MissingStoreIsNotFoundUnlessCreating) {
  auto missing = open((dir_ / "missing.db").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_NE(missing.error().message.find("missing.db' does not exist"), std::string::npos)
      << missing.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing.db")) << "opening must not create it";
}

TEST_F(OpenTest, PostgresqlIsNotBuiltInYet) {
  for (const char* uri : {"postgresql://tether@db.example/tether", "postgres://db/tether"}) {
    auto opened = open(uri);
    ASSERT_FALSE(opened.ok()) << uri;
    EXPECT_EQ(opened.error().code, Errc::store_unsupported) << uri;
    EXPECT_NE(opened.error().message.find("PostgreSQL is not built in yet"), std::string::npos)
        << opened.error().message;
    EXPECT_NE(opened.error().message.find(uri), std::string::npos) << opened.error().message;
  }
}

TEST_F(OpenTest, PasswordInTheUriIsNeverShown) {
  auto opened = open("postgresql://tether:s3cret@db.example/tether");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::store_unsupported);
  EXPECT_EQ(opened.error().message.find("s3cret"), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("tether:***@db.example"), std::string::npos)
      << opened.error().message;
  auto other = open("mysql://root:hunter2@db/tether");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message.find("hunter2"), std::string::npos) << other.error().message;
}

TEST_F(OpenTest, UnknownSchemeIsRefusedNamingTheUriAndTheAcceptedForms) {
  auto opened = open("mysql://db/tether");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::invalid_argument);
  const std::string& m = opened.error().message;
  EXPECT_NE(m.find("store 'mysql://db/tether'"), std::string::npos) << m;
  EXPECT_NE(m.find("'mysql:'"), std::string::npos) << m;
  EXPECT_NE(m.find("sqlite:PATH"), std::string::npos) << m;
  EXPECT_NE(m.find("sqlite:///absolute/path"), std::string::npos) << m;
  EXPECT_NE(m.find("a file path"), std::string::npos) << m;
}

TEST_F(OpenTest, SqliteUriNamingAHostIsRefused) {
  auto opened = open("sqlite://dbhost/var/tether.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::invalid_argument);
  EXPECT_NE(opened.error().message.find("names a host"), std::string::npos)
      << opened.error().message;
}

TEST_F(OpenTest, SqliteUriWithAQueryIsRefused) {
  auto opened = open("sqlite:///var/tether.db?mode=ro");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::invalid_argument);
  EXPECT_NE(opened.error().message.find("query"), std::string::npos) << opened.error().message;
}

TEST_F(OpenTest, EmptyUriIsRefused) {
  auto opened = open("");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::invalid_argument);
  EXPECT_NE(opened.error().message.find("is empty"), std::string::npos) << opened.error().message;
}

}  // namespace
}  // namespace tether::store

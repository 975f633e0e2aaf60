// The store contract run against the SQLite adapter: a fresh temporary file per test, opened
// through store::open both as a plain path and as a sqlite: URI.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "store/open.h"
#include "store_contract.h"

namespace tether::store::contract {
namespace {

// A directory that lives as long as the factories that open stores in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> next{0};
    path_ = std::filesystem::temp_directory_path() /
            ("tether-store-contract-" + std::to_string(::getpid()) + "-" +
             std::to_string(next.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// `spell` turns the database file's path into the text given to store::open.
std::function<StoreFactory()> sqlite_store(std::string (*spell)(const std::filesystem::path&)) {
  return [spell]() -> StoreFactory {
    auto dir = std::make_shared<TempDir>();
    std::string uri = spell(dir->path() / "tether.db");
    return [dir, uri]() { return open(uri, {.create = true}); };
  };
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreContract,
    ::testing::Values(
        ContractAdapter{"sqlite_file_path",
                        sqlite_store([](const std::filesystem::path& p) { return p.string(); })},
        ContractAdapter{"sqlite_uri", sqlite_store([](const std::filesystem::path& p) {
                          return "sqlite://" + p.string();
                        })}),
    adapter_name);

}  // namespace
}  // namespace tether::store::contract

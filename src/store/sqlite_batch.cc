// Issuance batches: many issuances' writes in one SQLite transaction, each in a savepoint of
// its own (CertificateStore::commit_batch).
#include <sqlite3.h>

#include <string>

#include "store/sqlite_store.h"

namespace tether::store {

namespace {

// Runs one of the batch's transaction-control statements. No row is read and no message is
// asked of sqlite3_exec: the connection's error is read instead.
Status control(sqlite3* db, const char* sql, std::string_view what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return ok_status();
  int code = sqlite3_errcode(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return make_error(Errc::store_busy,
                      std::string(what) + ": another writer held the store for more than " +
                          std::to_string(SqliteStore::kBusyTimeoutMs / 1000) +
                          " s: retry when it is done (" + sqlite3_errmsg(db) + ")");
  }
  return make_error(Errc::store_error, std::string(what) + ": " + sqlite3_errmsg(db));
}

// Clears the batch flag however commit_batch returns.
class BatchScope {
 public:
  explicit BatchScope(bool& flag) : flag_(flag) { flag_ = true; }
  ~BatchScope() { flag_ = false; }
  BatchScope(const BatchScope&) = delete;
  BatchScope& operator=(const BatchScope&) = delete;

 private:
  bool& flag_;
};

}  // namespace

Result<std::vector<Status>> SqliteStore::commit_batch(const std::vector<IssuanceWrite>& writes) {
  std::vector<Status> results;
  results.reserve(writes.size());
  // IMMEDIATE for the reason in_transaction gives: the write lock up front.
  TETHER_TRY(control(db_, "BEGIN IMMEDIATE", "cannot begin the issuance batch"));
  // Any failure of the batch itself (not of one write) abandons all of it.
  auto abandon = [&](Error error) -> Result<std::vector<Status>> {
    if (sqlite3_get_autocommit(db_) == 0) (void)control(db_, "ROLLBACK", "rollback");
    return error;
  };
  {
    BatchScope batch(in_batch_);
    for (const IssuanceWrite& write : writes) {
      Status begun = control(db_, "SAVEPOINT issuance", "cannot begin an issuance's savepoint");
      if (!begun) return abandon(std::move(begun).error());
      // The single-write methods, run inside this transaction (in_transaction sees in_batch_),
      // so a write is checked and recorded here exactly as it would be on its own.
      Status written = record_issuance(*this, write);
      // Some errors (disk full, I/O error, out of memory) make SQLite roll back the whole
      // transaction: then nothing before this write is recorded either.
      if (sqlite3_get_autocommit(db_) != 0) {
        return make_error(
            Errc::store_error,
            "the issuance batch was rolled back by SQLite after write " +
                std::to_string(results.size() + 1) + " of " + std::to_string(writes.size()) + ": " +
                (written ? std::string(sqlite3_errmsg(db_)) : written.error().message));
      }
      if (!written) {
        Status undone = control(db_, "ROLLBACK TO issuance", "cannot undo a failed issuance");
        if (!undone) return abandon(std::move(undone).error());
      }
      Status released = control(db_, "RELEASE issuance", "cannot end an issuance's savepoint");
      if (!released) return abandon(std::move(released).error());
      results.push_back(std::move(written));
    }
  }
  Status committed = control(db_, "COMMIT", "cannot commit the issuance batch");
  if (!committed) return abandon(std::move(committed).error());
  return results;
}

}  // namespace tether::store

// The SQLite adapter's own plumbing, shared by its source files (sqlite_store.cc,
// sqlite_auth.cc, sqlite_activity.cc): prepared statements, running them, the audit insert and the
// transaction. Only the adapter includes this header.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/sqlite_handles.h"
#include "store/sqlite_store.h"

namespace tether::store {

inline Error sqlite_error(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  Errc errc = Errc::store_error;
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) errc = Errc::store_busy;
  if (code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE) {
    errc = Errc::already_exists;
  }
  // A row naming a parent that is not there (the caller words the message for that parent).
  if (code == SQLITE_CONSTRAINT_FOREIGNKEY) errc = Errc::not_found;
  return make_error(errc, std::string(what) + ": " + sqlite3_errmsg(db));
}

// Statements are prepared once per connection and reused: preparing costs more than the insert
// it prepares (see bench/RESULTS.md).
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  sqlite3* db() const { return db_; }
  // Null when the SQL does not prepare; the caller reports sqlite3_errmsg(db()).
  sqlite3_stmt* get(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, nullptr) != SQLITE_OK) {
      return nullptr;
    }
    statements_.emplace(std::string(sql), stmt);
    return stmt;
  }

 private:
  sqlite3* db_;
  // Transparent lookup: finding a statement by its SQL text does not allocate.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> statements_;
};

// One use of a prepared statement: owned (finalized after use) or borrowed from the cache
// (reset and unbound after use, ready for the next caller).
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : owned_(true) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  Stmt(StatementCache& cache, std::string_view sql) : stmt_(cache.get(sql)), owned_(false) {}
  ~Stmt() {
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool valid() const { return stmt_ != nullptr; }

  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }

  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool owned_;
};

inline Status exec(sqlite3* db, const char* sql, std::string_view what) {
  char* raw_err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &raw_err);
  SqliteMessage err(raw_err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err.get() : "unknown error";
    Error e = sqlite_error(db, what);
    e.message = std::string(what) + ": " + msg;
    return e;
  }
  return ok_status();
}

// Runs a statement that returns no rows.
inline Status run(sqlite3* db, Stmt& stmt, std::string_view what) {
  if (!stmt.valid()) return sqlite_error(db, std::string("cannot prepare ") + std::string(what));
  if (stmt.step() != SQLITE_DONE) return sqlite_error(db, what);
  return ok_status();
}

inline Status insert_audit(StatementCache& cache, const AuditEvent& e) {
  sqlite3* db = cache.db();
  Stmt stmt(cache,
            "INSERT INTO audit_events (at, actor, action, identity, serial, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)");
  stmt.bind(1, e.at).bind(2, e.actor).bind(3, e.action).bind(4, e.identity).bind(5, e.serial);
  stmt.bind(6, e.detail.empty() ? std::string("{}") : e.detail);
  return run(db, stmt, "cannot record audit event");
}

// Runs a query and reads each row it returns.
template <class Row>
Result<std::vector<Row>> read_rows(sqlite3* db, Stmt& stmt, std::string_view what,
                                   Row (*read)(const Stmt&)) {
  if (!stmt.valid()) return sqlite_error(db, std::string("cannot prepare ") + std::string(what));
  std::vector<Row> out;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) out.push_back(read(stmt));
  if (rc != SQLITE_DONE) return sqlite_error(db, what);
  return out;
}

template <class F>
Status SqliteStore::in_transaction(F&& body) {
  // A write inside an issuance batch: the batch began the transaction and will commit it, and
  // rolls back to the write's savepoint if the write fails (sqlite_batch.cc).
  if (in_batch_) return body();
  // IMMEDIATE takes the write lock up front, so two processes never both read then both try
  // to upgrade (which SQLite can only resolve by failing one of them with SQLITE_BUSY).
  TETHER_TRY(exec(db_, "BEGIN IMMEDIATE", "cannot begin transaction"));
  Status result = body();
  if (!result) {
    (void)exec(db_, "ROLLBACK", "rollback");
    return result;
  }
  Status committed = exec(db_, "COMMIT", "cannot commit transaction");
  if (!committed) (void)exec(db_, "ROLLBACK", "rollback");
  return committed;
}

}  // namespace tether::store

// The SQLite adapter's ActivityLog (activity_log.h): presentations and handshake counts.
#include <sqlite3.h>

#include "store/sqlite_internal.h"
#include "store/sqlite_store.h"

namespace tether::store {

Status SqliteStore::record_presentations(const std::vector<Presentation>& presentations) {
  return in_transaction([&]() -> Status {
    for (const auto& p : presentations) {
      Stmt upsert(*statements_,
                  "INSERT INTO certificate_presentations (serial, last_presented_at) "
                  "SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM certificates WHERE serial = ?1) "
                  "ON CONFLICT(serial) DO UPDATE SET last_presented_at = "
                  "max(last_presented_at, excluded.last_presented_at)");
      upsert.bind(1, p.serial).bind(2, p.at);
      TETHER_TRY(run(db_, upsert, "cannot record certificate presentation"));
    }
    return ok_status();
  });
}

namespace {

// Checked before the transaction begins, so a bad batch records nothing and says which entry.
Status check_count(const HandshakeCount& c) {
  if (c.outcome != "ok" && c.outcome != "refused") {
    return make_error(Errc::invalid_argument, "handshake count outcome \"" + c.outcome +
                                                  "\" is neither \"ok\" nor \"refused\"");
  }
  if (c.reason.empty()) {
    return make_error(Errc::invalid_argument,
                      "handshake count for minute " + std::to_string(c.minute) +
                          " has no reason: give the handshake reason token (\"ok\" if accepted)");
  }
  if (c.count < 1) {
    return make_error(Errc::invalid_argument, "handshake count " + std::to_string(c.count) +
                                                  " for " + c.outcome + "/" + c.reason +
                                                  " is below 1: leave out what did not happen");
  }
  return ok_status();
}

// Rounds down, also before 1970 (C++ division truncates towards zero).
int64_t minute_of(int64_t unix_seconds) {
  int64_t m = unix_seconds / 60;
  if (unix_seconds % 60 < 0) --m;
  return m * 60;
}

}  // namespace

Status SqliteStore::add_handshake_counts(const std::vector<HandshakeCount>& counts) {
  for (const auto& c : counts) TETHER_TRY(check_count(c));
  return in_transaction([&]() -> Status {
    for (const auto& c : counts) {
      Stmt upsert(*statements_,
                  "INSERT INTO handshake_counts (minute, outcome, reason, count) "
                  "VALUES (?1, ?2, ?3, ?4) "
                  "ON CONFLICT(minute, outcome, reason) DO UPDATE SET count = count + ?4");
      upsert.bind(1, minute_of(c.minute)).bind(2, c.outcome).bind(3, c.reason).bind(4, c.count);
      TETHER_TRY(run(db_, upsert, "cannot record handshake counts"));
    }
    return ok_status();
  });
}

Result<std::vector<HandshakeCount>> SqliteStore::handshake_counts(int64_t since, int64_t until) {
  Stmt stmt(*statements_,
            "SELECT minute, outcome, reason, count FROM handshake_counts "
            "WHERE minute >= ? AND minute < ? ORDER BY minute, outcome, reason");
  if (!stmt.valid()) return sqlite_error(db_, "cannot read handshake counts");
  stmt.bind(1, since).bind(2, until);
  std::vector<HandshakeCount> out;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    out.push_back({stmt.integer(0), stmt.text(1), stmt.text(2), stmt.integer(3)});
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot read handshake counts");
  return out;
}

}  // namespace tether::store

// SqliteStore's AuthStore: users, sessions, API tokens and login failures (migration 6).
#include "store/sqlite_internal.h"

namespace tether::store {

namespace {

constexpr const char* kUserColumns =
    "name, password_hash, role, tenant, must_change_password, created_at, disabled";

UserRecord read_user(const Stmt& s) {
  UserRecord u;
  u.name = s.text(0);
  u.password_hash = s.text(1);
  u.role = s.text(2);
  u.tenant = s.text(3);
  u.must_change_password = s.integer(4) != 0;
  u.created_at = s.integer(5);
  u.disabled = s.integer(6) != 0;
  return u;
}

Status insert_user(StatementCache& cache, const UserRecord& u) {
  Stmt stmt(cache,
            "INSERT INTO users (name, password_hash, role, tenant, must_change_password, "
            "created_at, disabled) VALUES (?, ?, ?, ?, ?, ?, ?)");
  stmt.bind(1, u.name).bind(2, u.password_hash).bind(3, u.role).bind(4, u.tenant);
  stmt.bind(5, int64_t{u.must_change_password ? 1 : 0}).bind(6, u.created_at);
  stmt.bind(7, int64_t{u.disabled ? 1 : 0});
  Status s = run(cache.db(), stmt, "cannot create user");
  if (!s && s.error().code == Errc::already_exists) {
    return make_error(Errc::already_exists, "user '" + u.name + "' already exists");
  }
  return s;
}

constexpr const char* kTokenColumns =
    "id, secret_hash, name, role, tenant, created_by, created_at, expires_at, revoked_at, "
    "last_used_at";

ApiTokenRecord read_token(const Stmt& s) {
  ApiTokenRecord t;
  t.id = s.text(0);
  t.secret_hash = s.text(1);
  t.name = s.text(2);
  t.role = s.text(3);
  t.tenant = s.text(4);
  t.created_by = s.text(5);
  t.created_at = s.integer(6);
  t.expires_at = s.integer(7);
  if (!s.is_null(8)) t.revoked_at = s.integer(8);
  if (!s.is_null(9)) t.last_used_at = s.integer(9);
  return t;
}

int64_t read_time(const Stmt& s) {
  return s.integer(0);
}

// Runs a query expected to return at most one row.
template <class Row>
Result<std::optional<Row>> read_optional(sqlite3* db, Stmt& stmt, std::string_view what,
                                         Row (*read)(const Stmt&)) {
  TETHER_ASSIGN_OR_RETURN(auto rows, read_rows(db, stmt, what, read));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

}  // namespace

Result<bool> SqliteStore::has_users() {
  Stmt stmt(*statements_, "SELECT EXISTS (SELECT 1 FROM users)");
  if (!stmt.valid() || stmt.step() != SQLITE_ROW) return sqlite_error(db_, "cannot read users");
  return stmt.integer(0) != 0;
}

Status SqliteStore::create_user(const UserRecord& user, const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    TETHER_TRY(insert_user(*statements_, user));
    return insert_audit(*statements_, event);
  });
}

Result<bool> SqliteStore::create_first_user(const UserRecord& user, const AuditEvent& event) {
  bool created = false;
  // The write lock is taken before the check (BEGIN IMMEDIATE), so two servers starting at
  // once cannot both see no user.
  TETHER_TRY(in_transaction([&]() -> Status {
    Stmt any(*statements_, "SELECT EXISTS (SELECT 1 FROM users)");
    if (!any.valid() || any.step() != SQLITE_ROW) return sqlite_error(db_, "cannot read users");
    if (any.integer(0) != 0) return ok_status();
    TETHER_TRY(insert_user(*statements_, user));
    created = true;
    return insert_audit(*statements_, event);
  }));
  return created;
}

Result<std::optional<UserRecord>> SqliteStore::find_user(const std::string& name) {
  std::string sql = std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?";
  Stmt stmt(*statements_, sql);
  stmt.bind(1, name);
  return read_optional(db_, stmt, "cannot read user", &read_user);
}

Result<std::vector<UserRecord>> SqliteStore::list_users() {
  std::string sql = std::string("SELECT ") + kUserColumns + " FROM users ORDER BY name";
  Stmt stmt(*statements_, sql);
  return read_rows(db_, stmt, "cannot list users", &read_user);
}

Status SqliteStore::set_password(const std::string& user, const std::string& password_hash,
                                 bool must_change_password, const std::string& keep_session_hash,
                                 const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    Stmt update(*statements_,
                "UPDATE users SET password_hash = ?, must_change_password = ? WHERE name = ?");
    update.bind(1, password_hash).bind(2, int64_t{must_change_password ? 1 : 0}).bind(3, user);
    TETHER_TRY(run(db_, update, "cannot change password"));
    if (sqlite3_changes(db_) == 0) {
      return make_error(Errc::not_found, "user '" + user + "' does not exist");
    }
    // Whoever knew the old password may hold a session: it ends with the password.
    Stmt end(*statements_, "DELETE FROM sessions WHERE user = ? AND id_hash <> ?");
    end.bind(1, user).bind(2, keep_session_hash);
    TETHER_TRY(run(db_, end, "cannot end the user's other sessions"));
    return insert_audit(*statements_, event);
  });
}

Status SqliteStore::create_session(const SessionRecord& session, const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    Stmt stmt(*statements_,
              "INSERT INTO sessions (id_hash, user, created_at, last_used_at) VALUES (?, ?, ?, ?)");
    stmt.bind(1, session.id_hash).bind(2, session.user).bind(3, session.created_at);
    stmt.bind(4, session.last_used_at);
    Status s = run(db_, stmt, "cannot create session");
    if (!s && s.error().code == Errc::not_found) {
      return make_error(Errc::not_found, "user '" + session.user + "' does not exist");
    }
    TETHER_TRY(s);
    return insert_audit(*statements_, event);
  });
}

Result<std::optional<SessionRecord>> SqliteStore::find_session(const std::string& id_hash) {
  Stmt stmt(*statements_,
            "SELECT id_hash, user, created_at, last_used_at FROM sessions WHERE id_hash = ?");
  stmt.bind(1, id_hash);
  return read_optional(
      db_, stmt, "cannot read session", +[](const Stmt& s) {
        return SessionRecord{s.text(0), s.text(1), s.integer(2), s.integer(3)};
      });
}

Status SqliteStore::touch_session(const std::string& id_hash, int64_t at) {
  Stmt stmt(*statements_,
            "UPDATE sessions SET last_used_at = max(last_used_at, ?) WHERE id_hash = ?");
  stmt.bind(1, at).bind(2, id_hash);
  return run(db_, stmt, "cannot record session use");
}

Status SqliteStore::delete_session(const std::string& id_hash, const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    Stmt stmt(*statements_, "DELETE FROM sessions WHERE id_hash = ?");
    stmt.bind(1, id_hash);
    TETHER_TRY(run(db_, stmt, "cannot end session"));
    if (sqlite3_changes(db_) == 0) return ok_status();
    return insert_audit(*statements_, event);
  });
}

Status SqliteStore::delete_expired_sessions(int64_t idle_before, int64_t created_before) {
  Stmt stmt(*statements_, "DELETE FROM sessions WHERE last_used_at < ? OR created_at < ?");
  stmt.bind(1, idle_before).bind(2, created_before);
  return run(db_, stmt, "cannot delete expired sessions");
}

Status SqliteStore::create_api_token(const ApiTokenRecord& token, const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    Stmt stmt(*statements_,
              "INSERT INTO api_tokens (id, secret_hash, name, role, tenant, created_by, "
              "created_at, expires_at, revoked_at, last_used_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)");
    stmt.bind(1, token.id).bind(2, token.secret_hash).bind(3, token.name).bind(4, token.role);
    stmt.bind(5, token.tenant).bind(6, token.created_by).bind(7, token.created_at);
    stmt.bind(8, token.expires_at);
    Status s = run(db_, stmt, "cannot create API token");
    if (!s && s.error().code == Errc::already_exists) {
      return make_error(Errc::already_exists, "API token '" + token.id + "' already exists");
    }
    TETHER_TRY(s);
    return insert_audit(*statements_, event);
  });
}

Result<std::optional<ApiTokenRecord>> SqliteStore::find_api_token(const std::string& id) {
  std::string sql = std::string("SELECT ") + kTokenColumns + " FROM api_tokens WHERE id = ?";
  Stmt stmt(*statements_, sql);
  stmt.bind(1, id);
  return read_optional(db_, stmt, "cannot read API token", &read_token);
}

Result<std::vector<ApiTokenRecord>> SqliteStore::list_api_tokens(
    const std::optional<std::string>& tenant) {
  if (tenant) {
    std::string sql = std::string("SELECT ") + kTokenColumns +
                      " FROM api_tokens WHERE tenant = ? ORDER BY created_at DESC, id";
    Stmt stmt(*statements_, sql);
    stmt.bind(1, *tenant);
    return read_rows(db_, stmt, "cannot list API tokens", &read_token);
  }
  std::string sql =
      std::string("SELECT ") + kTokenColumns + " FROM api_tokens ORDER BY created_at DESC, id";
  Stmt stmt(*statements_, sql);
  return read_rows(db_, stmt, "cannot list API tokens", &read_token);
}

Result<bool> SqliteStore::revoke_api_token(const std::string& id, int64_t at,
                                           const AuditEvent& event) {
  bool revoked = false;
  TETHER_TRY(in_transaction([&]() -> Status {
    Stmt find(*statements_, "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = ?");
    find.bind(1, id);
    if (!find.valid()) return sqlite_error(db_, "cannot prepare API token lookup");
    int rc = find.step();
    if (rc == SQLITE_DONE) return make_error(Errc::not_found, "no API token '" + id + "'");
    if (rc != SQLITE_ROW) return sqlite_error(db_, "cannot read API token");
    if (find.integer(0) != 0) return ok_status();
    Stmt update(*statements_, "UPDATE api_tokens SET revoked_at = ? WHERE id = ?");
    update.bind(1, at).bind(2, id);
    TETHER_TRY(run(db_, update, "cannot revoke API token"));
    revoked = true;
    return insert_audit(*statements_, event);
  }));
  return revoked;
}

Status SqliteStore::touch_api_token(const std::string& id, int64_t at) {
  Stmt stmt(*statements_,
            "UPDATE api_tokens SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?");
  stmt.bind(1, at).bind(2, id);
  return run(db_, stmt, "cannot record API token use");
}

Status SqliteStore::record_login_failure(const std::string& user, const std::string& address,
                                         int64_t at, int64_t forget_before) {
  return in_transaction([&]() -> Status {
    Stmt forget(*statements_, "DELETE FROM login_failures WHERE at < ?");
    forget.bind(1, forget_before);
    TETHER_TRY(run(db_, forget, "cannot forget old login failures"));
    Stmt stmt(*statements_, "INSERT INTO login_failures (user, address, at) VALUES (?, ?, ?)");
    stmt.bind(1, user).bind(2, address).bind(3, at);
    return run(db_, stmt, "cannot record login failure");
  });
}

Result<std::vector<int64_t>> SqliteStore::login_failures_for_user(const std::string& user,
                                                                  int64_t since, int limit) {
  Stmt stmt(*statements_,
            "SELECT at FROM login_failures WHERE user = ? AND at >= ? ORDER BY at DESC LIMIT ?");
  stmt.bind(1, user).bind(2, since).bind(3, int64_t{limit});
  return read_rows(db_, stmt, "cannot read login failures", &read_time);
}

Result<std::vector<int64_t>> SqliteStore::login_failures_from_address(const std::string& address,
                                                                      int64_t since, int limit) {
  Stmt stmt(*statements_,
            "SELECT at FROM login_failures WHERE address = ? AND at >= ? ORDER BY at DESC "
            "LIMIT ?");
  stmt.bind(1, address).bind(2, since).bind(3, int64_t{limit});
  return read_rows(db_, stmt, "cannot read login failures", &read_time);
}

Status SqliteStore::clear_login_failures(const std::string& user) {
  Stmt stmt(*statements_, "DELETE FROM login_failures WHERE user = ?");
  stmt.bind(1, user);
  return run(db_, stmt, "cannot clear login failures");
}

}  // namespace tether::store

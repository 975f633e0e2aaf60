#include "store/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "store/in_process_listeners.h"
#include "store/migrations.h"
#include "store/sqlite_handles.h"

namespace tether::store {

namespace {

constexpr int kBusyTimeoutMs = SqliteStore::kBusyTimeoutMs;

Error sqlite_error(sqlite3* db, std::string_view what) {
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

}  // namespace

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

namespace {

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

Status exec(sqlite3* db, const char* sql, std::string_view what) {
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
Status run(sqlite3* db, Stmt& stmt, std::string_view what) {
  if (!stmt.valid()) return sqlite_error(db, std::string("cannot prepare ") + std::string(what));
  if (stmt.step() != SQLITE_DONE) return sqlite_error(db, what);
  return ok_status();
}

Status insert_audit(StatementCache& cache, const AuditEvent& e) {
  sqlite3* db = cache.db();
  Stmt stmt(cache,
            "INSERT INTO audit_events (at, actor, action, identity, serial, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)");
  stmt.bind(1, e.at).bind(2, e.actor).bind(3, e.action).bind(4, e.identity).bind(5, e.serial);
  stmt.bind(6, e.detail.empty() ? std::string("{}") : e.detail);
  return run(db, stmt, "cannot record audit event");
}

Status insert_certificate(StatementCache& cache, const CertificateRecord& c) {
  sqlite3* db = cache.db();
  Stmt stmt(cache,
            "INSERT INTO certificates (serial, tenant_id, connector_id, identity, subject, "
            "key_type, not_before, not_after, status, fingerprint, pem, issued_at, csr_mode, "
            "kind, name, issuer_fingerprint) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)");
  stmt.bind(1, c.serial);
  // Only a connector's certificate belongs to a tenant and a connector row.
  if (c.kind == "connector") {
    stmt.bind(2, c.tenant_id).bind(3, c.connector_id);
  } else {
    stmt.bind_null(2).bind_null(3);
  }
  stmt.bind(4, c.identity);
  stmt.bind(5, c.subject).bind(6, c.key_type).bind(7, c.not_before).bind(8, c.not_after);
  stmt.bind(9, c.fingerprint).bind(10, c.pem).bind(11, c.issued_at);
  stmt.bind(12, static_cast<int64_t>(c.csr_mode ? 1 : 0));
  stmt.bind(13, c.kind).bind(14, c.kind == "connector" ? c.connector_id : c.name);
  stmt.bind(15, c.issuer_fingerprint);
  if (!stmt.valid()) return sqlite_error(db, "cannot prepare certificate insert");
  if (stmt.step() != SQLITE_DONE) {
    Error e = sqlite_error(db, "cannot record certificate");
    if (e.code == Errc::already_exists) {
      bool serial = std::strstr(sqlite3_errmsg(db), "certificates.serial") != nullptr;
      e.code = serial ? Errc::serial_collision : Errc::already_exists;
      e.message = serial ? "certificate serial " + c.serial + " is already recorded"
                         : "certificate fingerprint " + c.fingerprint + " is already recorded";
    }
    return e;
  }
  return ok_status();
}

// The store's schema version (PRAGMA user_version); an error if it is newer than this build.
// The statement is finalized before returning: a stepped but unfinished statement keeps a read
// transaction open, and a connection that then asks for the write lock while another process
// writes gets SQLITE_BUSY at once, without waiting (waiting could deadlock).
Result<int> read_schema_version(sqlite3* db, const std::string& path) {
  Stmt stmt(db, "PRAGMA user_version");
  if (!stmt.valid() || stmt.step() != SQLITE_ROW) {
    return sqlite_error(db, "store '" + path + "' is not a readable SQLite database");
  }
  int version = static_cast<int>(stmt.integer(0));
  int latest = static_cast<int>(sqlite_migrations().size());
  if (version > latest) {
    return make_error(Errc::store_schema_too_new, "store '" + path + "' has schema version " +
                                                      std::to_string(version) +
                                                      ", newer than this tether understands (" +
                                                      std::to_string(latest) + "): upgrade tether");
  }
  return version;
}

constexpr const char* kCertificateColumns =
    "c.serial, c.tenant_id, c.connector_id, c.identity, c.subject, c.key_type, c.not_before, "
    "c.not_after, c.fingerprint, c.pem, c.issued_at, c.csr_mode, r.revoked_at, r.reason, "
    "c.issuer_fingerprint, "
    "(SELECT p.last_presented_at FROM certificate_presentations p WHERE p.serial = c.serial), "
    "c.kind, c.name";

CertificateRecord read_certificate(const Stmt& s) {
  CertificateRecord c;
  c.serial = s.text(0);
  c.tenant_id = s.text(1);
  c.connector_id = s.text(2);
  c.identity = s.text(3);
  c.subject = s.text(4);
  c.key_type = s.text(5);
  c.not_before = s.integer(6);
  c.not_after = s.integer(7);
  c.fingerprint = s.text(8);
  c.pem = s.text(9);
  c.issued_at = s.integer(10);
  c.csr_mode = s.integer(11) != 0;
  if (!s.is_null(12)) {
    c.revoked_at = s.integer(12);
    c.revocation_reason = static_cast<int>(s.integer(13));
  }
  c.issuer_fingerprint = s.text(14);
  if (!s.is_null(15)) c.last_presented_at = s.integer(15);
  c.kind = s.text(16);
  c.name = s.text(17);
  return c;
}

// Names the database file, not the path to it, so that every handle in this process on the
// same file shares one set of revocation listeners however the path was spelled.
std::string database_key(sqlite3* db, const std::string& path) {
  const char* file = sqlite3_db_filename(db, "main");
  struct stat st {};
  if (file != nullptr && *file != '\0' && ::stat(file, &st) == 0) {
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
  // An in-memory or temporary database: private to this handle.
  return "handle:" + path + ":" + std::to_string(reinterpret_cast<uintptr_t>(db));
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

}  // namespace

int SqliteStore::schema_version() {
  return static_cast<int>(sqlite_migrations().size());
}

SqliteStore::SqliteStore(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), statements_(std::make_unique<StatementCache>(db)) {}

SqliteStore::~SqliteStore() {
  statements_.reset();  // finalize before closing
  sqlite3_close_v2(db_);
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

namespace {

// Switching a new store to WAL takes an exclusive lock after reading it. When two processes do
// that at once, SQLite answers one of them SQLITE_BUSY at once rather than wait (waiting could
// deadlock), whatever the busy timeout: so that one retries, within the same bound.
Status enable_wal(sqlite3* db, const std::string& path) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    Status s = exec(db, "PRAGMA journal_mode=WAL", "cannot enable WAL on '" + path + "'");
    if (s.ok() || s.error().code != Errc::store_busy ||
        std::chrono::steady_clock::now() >= deadline) {
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Every foreign key of the store holds (PRAGMA foreign_key_check finds no row).
Status check_foreign_keys(sqlite3* db, const std::string& path) {
  Stmt check(db, "PRAGMA foreign_key_check");
  int rc = check.valid() ? check.step() : SQLITE_ERROR;
  if (rc == SQLITE_ROW) {
    return make_error(Errc::store_error, "migrating store '" + path + "' would leave table " +
                                             check.text(0) +
                                             " referring to rows that are gone: the store is "
                                             "left as it was; keep a copy and report this");
  }
  if (rc != SQLITE_DONE)
    return sqlite_error(db, "cannot check foreign keys of store '" + path + "'");
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return make_error(Errc::store_error, "cannot open store '" + path + "': " + msg);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(raw, path));
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  sqlite3_extended_result_codes(raw, 1);
  // WAL: readers never block the writer. synchronous=FULL: a committed issuance survives power
  // loss, not only a process crash; a CA must never hand out a certificate it has forgotten.
  TETHER_TRY(enable_wal(raw, path));
  // Only now is the file certain to exist (SQLite may create it on first use).
  store->listeners_ = InProcessListeners::for_database(database_key(raw, path));
  TETHER_TRY(exec(raw, "PRAGMA synchronous=FULL", "cannot set synchronous"));
  TETHER_TRY(exec(raw, "PRAGMA foreign_keys=ON", "cannot enable foreign keys"));

  TETHER_ASSIGN_OR_RETURN(int version, read_schema_version(raw, path));
  const int latest = static_cast<int>(sqlite_migrations().size());
  if (version == latest) return store;
  // Another process may be migrating the same store at this moment (two `tether` commands
  // starting on a fresh or just-upgraded store). So the version is read again under the write
  // lock, and only the migrations still missing then are applied, all in that one transaction:
  // the store moves from one schema version to the latest at once or not at all.
  //
  // Foreign keys are off while migrating (SQLite's procedure for rebuilding a table: dropping
  // the old table would otherwise count every row that refers to it as a violation, even once
  // the rebuilt table is back under its name) and checked as a whole before the commit.
  TETHER_TRY(exec(raw, "PRAGMA foreign_keys=OFF", "cannot pause foreign keys for migration"));
  Status migrated = store->in_transaction([&]() -> Status {
    TETHER_ASSIGN_OR_RETURN(int current, read_schema_version(raw, path));
    for (int i = current; i < latest; ++i) {
      TETHER_TRY(exec(raw, std::string(sqlite_migrations()[static_cast<size_t>(i)]).c_str(),
                      "migration " + std::to_string(i + 1) + " failed"));
    }
    TETHER_TRY(check_foreign_keys(raw, path));
    std::string set_version = "PRAGMA user_version = " + std::to_string(latest);
    return exec(raw, set_version.c_str(), "cannot record schema version");
  });
  TETHER_TRY(exec(raw, "PRAGMA foreign_keys=ON", "cannot enable foreign keys"));
  TETHER_TRY(migrated);
  return store;
}

Result<std::optional<std::string>> SqliteStore::get_setting(const std::string& key) {
  Stmt stmt(*statements_, "SELECT value FROM settings WHERE key = ?");
  if (!stmt.valid()) return sqlite_error(db_, "cannot read settings");
  stmt.bind(1, key);
  int rc = stmt.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(stmt.text(0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return sqlite_error(db_, "cannot read setting " + key);
}

Status SqliteStore::record_ca_init(const std::vector<std::pair<std::string, std::string>>& settings,
                                   const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    for (const auto& [key, value] : settings) {
      Stmt stmt(*statements_, "INSERT INTO settings (key, value) VALUES (?, ?)");
      stmt.bind(1, key).bind(2, value);
      TETHER_TRY(run(db_, stmt, "cannot record setting " + key));
    }
    return insert_audit(*statements_, event);
  });
}

Status SqliteStore::create_tenant(const TenantRecord& tenant, const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    Stmt stmt(*statements_, "INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)");
    stmt.bind(1, tenant.id).bind(2, tenant.name).bind(3, tenant.created_at);
    Status s = run(db_, stmt, "cannot create tenant");
    if (!s && s.error().code == Errc::already_exists) {
      return make_error(Errc::already_exists, "tenant '" + tenant.id + "' already exists");
    }
    TETHER_TRY(s);
    return insert_audit(*statements_, event);
  });
}

Result<std::vector<TenantRecord>> SqliteStore::list_tenants() {
  Stmt stmt(*statements_, "SELECT id, name, created_at FROM tenants ORDER BY id");
  if (!stmt.valid()) return sqlite_error(db_, "cannot list tenants");
  std::vector<TenantRecord> out;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW)
    out.push_back({stmt.text(0), stmt.text(1), stmt.integer(2)});
  if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot list tenants");
  return out;
}

Result<bool> SqliteStore::tenant_exists(const std::string& tenant_id) {
  Stmt stmt(*statements_, "SELECT 1 FROM tenants WHERE id = ?");
  if (!stmt.valid()) return sqlite_error(db_, "cannot read tenants");
  stmt.bind(1, tenant_id);
  int rc = stmt.step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "cannot read tenants");
}

Status SqliteStore::create_connector(const ConnectorRecord& connector,
                                     const CertificateRecord& cert, const AuditEvent& event) {
  return create_connectors({NewConnector{connector, cert, event}});
}

Status SqliteStore::create_connectors(const std::vector<NewConnector>& batch) {
  return in_transaction([&]() -> Status {
    for (const auto& item : batch) {
      const ConnectorRecord& connector = item.connector;
      Stmt stmt(*statements_,
                "INSERT INTO connectors (tenant_id, id, created_at) VALUES (?, ?, ?)");
      stmt.bind(1, connector.tenant_id).bind(2, connector.id).bind(3, connector.created_at);
      Status s = run(db_, stmt, "cannot create connector");
      if (!s && s.error().code == Errc::already_exists) {
        return make_error(Errc::already_exists,
                          "connector '" + connector.id + "' already exists in tenant '" +
                              connector.tenant_id +
                              "': use 'tether connector renew' for a new certificate");
      }
      if (!s && s.error().code == Errc::not_found) {
        return make_error(Errc::not_found, "tenant '" + connector.tenant_id +
                                               "' does not exist: create it with 'tether tenant "
                                               "create " +
                                               connector.tenant_id + "'");
      }
      TETHER_TRY(s);
      TETHER_TRY(insert_certificate(*statements_, item.certificate));
      TETHER_TRY(insert_audit(*statements_, item.event));
    }
    return ok_status();
  });
}

Result<std::optional<ConnectorRecord>> SqliteStore::find_connector(const std::string& tenant_id,
                                                                   const std::string& id) {
  Stmt stmt(*statements_,
            "SELECT tenant_id, id, created_at FROM connectors WHERE tenant_id = ? AND id = ?");
  if (!stmt.valid()) return sqlite_error(db_, "cannot read connectors");
  stmt.bind(1, tenant_id).bind(2, id);
  int rc = stmt.step();
  if (rc == SQLITE_ROW) {
    return std::optional<ConnectorRecord>(
        ConnectorRecord{stmt.text(0), stmt.text(1), stmt.integer(2)});
  }
  if (rc == SQLITE_DONE) return std::optional<ConnectorRecord>();
  return sqlite_error(db_, "cannot read connectors");
}

Result<std::vector<ConnectorRecord>> SqliteStore::list_connectors(
    const std::optional<std::string>& tenant_id) {
  Stmt stmt(*statements_,
            tenant_id ? "SELECT tenant_id, id, created_at FROM connectors WHERE tenant_id = ? "
                        "ORDER BY tenant_id, id"
                      : "SELECT tenant_id, id, created_at FROM connectors ORDER BY tenant_id, id");
  if (!stmt.valid()) return sqlite_error(db_, "cannot list connectors");
  if (tenant_id) stmt.bind(1, *tenant_id);
  std::vector<ConnectorRecord> out;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW)
    out.push_back({stmt.text(0), stmt.text(1), stmt.integer(2)});
  if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot list connectors");
  return out;
}

Status SqliteStore::add_certificate(const CertificateRecord& cert, const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    Status s = insert_certificate(*statements_, cert);
    if (!s && s.error().code == Errc::not_found) {
      return make_error(Errc::not_found, "connector '" + cert.tenant_id + "/" + cert.connector_id +
                                             "' does not exist: create it with 'tether connector "
                                             "create'");
    }
    TETHER_TRY(s);
    return insert_audit(*statements_, event);
  });
}

Result<std::vector<CertificateRecord>> SqliteStore::list_certificates(
    const CertificateFilter& filter) {
  std::string sql =
      std::string("SELECT ") + kCertificateColumns +
      " FROM certificates c LEFT JOIN revocations r ON r.serial = c.serial"
      " WHERE (?1 IS NULL OR c.tenant_id = ?1) AND (?2 IS NULL OR c.connector_id = ?2)"
      " AND (?3 IS NULL OR c.kind = ?3) AND (?4 IS NULL OR c.name = ?4)"
      " ORDER BY c.kind, c.tenant_id, c.connector_id, c.name, c.issued_at, c.serial";
  Stmt stmt(*statements_, sql.c_str());
  if (!stmt.valid()) return sqlite_error(db_, "cannot list certificates");
  if (filter.tenant_id)
    stmt.bind(1, *filter.tenant_id);
  else
    stmt.bind_null(1);
  if (filter.connector_id)
    stmt.bind(2, *filter.connector_id);
  else
    stmt.bind_null(2);
  if (filter.kind)
    stmt.bind(3, *filter.kind);
  else
    stmt.bind_null(3);
  if (filter.name)
    stmt.bind(4, *filter.name);
  else
    stmt.bind_null(4);
  std::vector<CertificateRecord> out;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) out.push_back(read_certificate(stmt));
  if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot list certificates");
  return out;
}

Result<std::optional<CertificateRecord>> SqliteStore::find_certificate_by_serial(
    const std::string& serial) {
  std::string sql = std::string("SELECT ") + kCertificateColumns +
                    " FROM certificates c LEFT JOIN revocations r ON r.serial = c.serial"
                    " WHERE c.serial = ?";
  Stmt stmt(*statements_, sql);
  stmt.bind(1, serial);
  TETHER_ASSIGN_OR_RETURN(auto rows,
                          read_rows(db_, stmt, "cannot read certificate", &read_certificate));
  if (rows.empty()) return std::optional<CertificateRecord>();
  return std::optional<CertificateRecord>(std::move(rows.front()));
}

Result<std::vector<CertificateRecord>> SqliteStore::list_certificates_by_issuer(
    const std::string& issuer_fingerprint) {
  std::string sql = std::string("SELECT ") + kCertificateColumns +
                    " FROM certificates c LEFT JOIN revocations r ON r.serial = c.serial"
                    " WHERE c.issuer_fingerprint = ? ORDER BY c.issued_at, c.serial";
  Stmt stmt(*statements_, sql);
  stmt.bind(1, issuer_fingerprint);
  return read_rows(db_, stmt, "cannot list certificates by issuer", &read_certificate);
}

Status SqliteStore::create_named_certificate(const CertificateRecord& cert,
                                             const AuditEvent& event) {
  return in_transaction([&]() -> Status {
    // Checked inside the write transaction, so two issuers of one name cannot both pass.
    Stmt exists(*statements_, "SELECT 1 FROM certificates WHERE kind = ? AND name = ? LIMIT 1");
    if (!exists.valid()) return sqlite_error(db_, "cannot read certificates");
    exists.bind(1, cert.kind).bind(2, cert.name);
    int rc = exists.step();
    if (rc == SQLITE_ROW) {
      return make_error(Errc::already_exists,
                        cert.identity +
                            " already has a certificate: use 'tether cert renew --kind " +
                            cert.kind + " --name " + cert.name + "' for a new one");
    }
    if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot read certificates");
    TETHER_TRY(insert_certificate(*statements_, cert));
    return insert_audit(*statements_, event);
  });
}

template <class Bind>
Result<std::vector<std::string>> SqliteStore::revoke_where(const char* select_sql, Bind&& bind,
                                                           const std::string& owner,
                                                           const std::optional<std::string>& serial,
                                                           int reason, int64_t at,
                                                           const AuditEvent& event) {
  std::vector<std::string> revoked;
  int64_t cursor = 0;
  Status s = in_transaction([&]() -> Status {
    Stmt select(*statements_, select_sql);
    if (!select.valid()) return sqlite_error(db_, "cannot read certificates");
    bind(select);
    if (serial)
      select.bind(3, *serial);
    else
      select.bind_null(3);
    int rc;
    while ((rc = select.step()) == SQLITE_ROW) revoked.push_back(select.text(0));
    if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot read certificates");
    if (revoked.empty()) {
      std::string what = serial
                             ? "no unrevoked certificate with serial " + *serial + " for " + owner
                             : owner + " has no unrevoked certificate";
      return make_error(Errc::not_found, what);
    }
    for (const auto& s : revoked) {
      Stmt update(*statements_, "UPDATE certificates SET status = 'revoked' WHERE serial = ?");
      update.bind(1, s);
      TETHER_TRY(run(db_, update, "cannot mark certificate revoked"));
      Stmt insert(*statements_,
                  "INSERT INTO revocations (serial, reason, revoked_at) VALUES (?, ?, ?)");
      insert.bind(1, s).bind(2, static_cast<int64_t>(reason)).bind(3, at);
      TETHER_TRY(run(db_, insert, "cannot record revocation"));
      AuditEvent per_cert = event;
      per_cert.serial = s;
      TETHER_TRY(insert_audit(*statements_, per_cert));
    }
    Stmt newest(*statements_, "SELECT max(seq) FROM revocation_log");
    if (!newest.valid() || newest.step() != SQLITE_ROW) {
      return sqlite_error(db_, "cannot read the revocation feed's position");
    }
    cursor = newest.integer(0);
    return ok_status();
  });
  if (!s) return std::move(s).error();
  // After the commit: a listener that reads at once must find what it was told about.
  listeners_->notify(cursor);
  return revoked;
}

Result<std::vector<std::string>> SqliteStore::revoke(const std::string& tenant_id,
                                                     const std::string& connector_id,
                                                     const std::optional<std::string>& serial,
                                                     int reason, int64_t at,
                                                     const AuditEvent& event) {
  return revoke_where(
      "SELECT serial FROM certificates WHERE tenant_id = ? AND connector_id = ? "
      "AND status = 'active' AND (?3 IS NULL OR serial = ?3) ORDER BY serial",
      [&](Stmt& select) { select.bind(1, tenant_id).bind(2, connector_id); },
      "connector '" + tenant_id + "/" + connector_id + "'", serial, reason, at, event);
}

Result<std::vector<std::string>> SqliteStore::revoke_named(const std::string& kind,
                                                           const std::string& name,
                                                           const std::optional<std::string>& serial,
                                                           int reason, int64_t at,
                                                           const AuditEvent& event) {
  return revoke_where(
      "SELECT serial FROM certificates WHERE kind = ? AND name = ? "
      "AND status = 'active' AND (?3 IS NULL OR serial = ?3) ORDER BY serial",
      [&](Stmt& select) { select.bind(1, kind).bind(2, name); }, kind + "/" + name, serial, reason,
      at, event);
}

Result<CrlSnapshot> SqliteStore::next_crl(const AuditEvent& event) {
  CrlSnapshot snapshot;
  Status s = in_transaction([&]() -> Status {
    Stmt read(*statements_, "SELECT value FROM settings WHERE key = 'crl_number'");
    if (!read.valid()) return sqlite_error(db_, "cannot read CRL number");
    int rc = read.step();
    uint64_t last = rc == SQLITE_ROW ? std::stoull(read.text(0)) : 0;
    snapshot.crl_number = last + 1;
    Stmt write(*statements_,
               "INSERT INTO settings (key, value) VALUES ('crl_number', ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    write.bind(1, std::to_string(snapshot.crl_number));
    TETHER_TRY(run(db_, write, "cannot store CRL number"));
    std::string sql =
        std::string("SELECT ") + kCertificateColumns +
        " FROM certificates c JOIN revocations r ON r.serial = c.serial ORDER BY c.serial";
    Stmt list(*statements_, sql.c_str());
    if (!list.valid()) return sqlite_error(db_, "cannot list revocations");
    while ((rc = list.step()) == SQLITE_ROW) snapshot.revoked.push_back(read_certificate(list));
    if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot list revocations");
    AuditEvent e = event;
    e.detail = "{\"crl_number\":" + std::to_string(snapshot.crl_number) +
               ",\"entries\":" + std::to_string(snapshot.revoked.size()) + "}";
    return insert_audit(*statements_, e);
  });
  if (!s) return std::move(s).error();
  return snapshot;
}

Result<std::vector<RevocationEntry>> SqliteStore::revocations_after(int64_t cursor, int limit) {
  Stmt stmt(*statements_,
            "SELECT seq, serial FROM revocation_log WHERE seq > ? ORDER BY seq LIMIT ?");
  if (!stmt.valid()) return sqlite_error(db_, "cannot read revocations");
  stmt.bind(1, cursor).bind(2, static_cast<int64_t>(limit));
  std::vector<RevocationEntry> out;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) out.push_back({stmt.integer(0), stmt.text(1)});
  if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot read revocations");
  return out;
}

Subscription SqliteStore::subscribe(Listener listener) {
  return listeners_->subscribe(std::move(listener));
}

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

Result<std::vector<AuditEvent>> SqliteStore::list_audit(int limit) {
  Stmt stmt(*statements_,
            "SELECT at, actor, action, identity, serial, detail FROM audit_events "
            "ORDER BY id DESC LIMIT ?");
  if (!stmt.valid()) return sqlite_error(db_, "cannot read audit events");
  stmt.bind(1, static_cast<int64_t>(limit));
  std::vector<AuditEvent> out;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    out.push_back(
        {stmt.integer(0), stmt.text(1), stmt.text(2), stmt.text(3), stmt.text(4), stmt.text(5)});
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, "cannot read audit events");
  return out;
}

}  // namespace tether::store

#include "store/migrations.h"

namespace tether::store {

const std::vector<std::string_view>& sqlite_migrations() {
  static const std::vector<std::string_view> migrations = {
      // 1: initial schema.
      R"sql(
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE tenants (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE connectors (
  tenant_id  TEXT NOT NULL REFERENCES tenants(id),
  id         TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE certificates (
  serial       TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  identity     TEXT NOT NULL,
  subject      TEXT NOT NULL,
  key_type     TEXT NOT NULL,
  not_before   INTEGER NOT NULL,
  not_after    INTEGER NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  fingerprint  TEXT NOT NULL UNIQUE,
  pem          TEXT NOT NULL,
  issued_at    INTEGER NOT NULL,
  csr_mode     INTEGER NOT NULL,
  FOREIGN KEY (tenant_id, connector_id) REFERENCES connectors(tenant_id, id)
) STRICT;
CREATE INDEX certificates_by_connector ON certificates(tenant_id, connector_id);
CREATE INDEX certificates_by_expiry ON certificates(not_after);

CREATE TABLE revocations (
  serial     TEXT PRIMARY KEY REFERENCES certificates(serial),
  reason     INTEGER NOT NULL CHECK (reason BETWEEN 0 AND 10 AND reason <> 7),
  revoked_at INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  at       INTEGER NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL,
  identity TEXT NOT NULL,
  serial   TEXT NOT NULL,
  detail   TEXT NOT NULL
) STRICT;
-- The audit log is append-only.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
)sql",
      // 2: the revocation feed. A gateway follows `seq` to see each revocation once, in order.
      // (The rowid of `revocations` would not do: VACUUM may renumber rowids of a table without
      // an INTEGER PRIMARY KEY.)
      R"sql(
CREATE TABLE revocation_log (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  serial TEXT NOT NULL UNIQUE REFERENCES revocations(serial)
) STRICT;
INSERT INTO revocation_log (serial) SELECT serial FROM revocations ORDER BY revoked_at, serial;
CREATE TRIGGER revocations_feed AFTER INSERT ON revocations
  BEGIN INSERT INTO revocation_log (serial) VALUES (NEW.serial); END;
)sql",
      // 3: each certificate's issuer, by the SHA-256 fingerprint of the CA certificate that
      // signed it. Until now one issuing CA signed every certificate: the one `ca init` recorded
      // as issuing_sha256, so that is the issuer of every certificate already stored.
      R"sql(
ALTER TABLE certificates ADD COLUMN issuer_fingerprint TEXT NOT NULL DEFAULT '';
UPDATE certificates
  SET issuer_fingerprint = coalesce((SELECT value FROM settings WHERE key = 'issuing_sha256'), '');
CREATE INDEX certificates_by_issuer ON certificates(issuer_fingerprint, issued_at);
)sql",
      // 4: serials in the one canonical form (even-length hex: a leading 0 where the digits were
      // odd), and when each certificate was last presented at a gateway. The serial is
      // rewritten in every table that holds it (the runner checks the foreign keys before it
      // commits). Audit events keep the serials as they were written (the log is append-only).
      R"sql(
UPDATE certificates SET serial = '0' || serial
  WHERE length(serial) % 2 = 1 AND substr(serial, 1, 1) <> '-';
UPDATE revocations SET serial = '0' || serial
  WHERE length(serial) % 2 = 1 AND substr(serial, 1, 1) <> '-';
UPDATE revocation_log SET serial = '0' || serial
  WHERE length(serial) % 2 = 1 AND substr(serial, 1, 1) <> '-';

CREATE TABLE certificate_presentations (
  serial            TEXT PRIMARY KEY REFERENCES certificates(serial),
  last_presented_at INTEGER NOT NULL
) STRICT;
)sql",
      // 5: certificates of every identity kind, not only connectors'. A gateway, service or
      // admin certificate belongs to no tenant, so tenant_id and connector_id become NULL for
      // them (a NULL key is not checked against connectors), and each row says its kind and
      // name. SQLite cannot drop a constraint in place, so the table is rebuilt (the migration
      // runs with foreign keys off and checks them all before it commits).
      R"sql(
CREATE TABLE certificates_rebuilt (
  serial       TEXT PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('connector', 'gateway', 'service', 'admin')),
  name         TEXT NOT NULL,
  tenant_id    TEXT,
  connector_id TEXT,
  identity     TEXT NOT NULL,
  subject      TEXT NOT NULL,
  key_type     TEXT NOT NULL,
  not_before   INTEGER NOT NULL,
  not_after    INTEGER NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  fingerprint  TEXT NOT NULL UNIQUE,
  pem          TEXT NOT NULL,
  issued_at    INTEGER NOT NULL,
  csr_mode     INTEGER NOT NULL,
  issuer_fingerprint TEXT NOT NULL DEFAULT '',
  CHECK ((kind = 'connector') = (tenant_id IS NOT NULL AND connector_id IS NOT NULL)),
  FOREIGN KEY (tenant_id, connector_id) REFERENCES connectors(tenant_id, id)
) STRICT;
INSERT INTO certificates_rebuilt (serial, kind, name, tenant_id, connector_id, identity, subject,
                             key_type, not_before, not_after, status, fingerprint, pem,
                             issued_at, csr_mode, issuer_fingerprint)
  SELECT serial, 'connector', connector_id, tenant_id, connector_id, identity, subject, key_type,
         not_before, not_after, status, fingerprint, pem, issued_at, csr_mode, issuer_fingerprint
  FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_rebuilt RENAME TO certificates;
CREATE INDEX certificates_by_connector ON certificates(tenant_id, connector_id);
CREATE INDEX certificates_by_expiry ON certificates(not_after);
CREATE INDEX certificates_by_name ON certificates(kind, name);
CREATE INDEX certificates_by_issuer ON certificates(issuer_fingerprint, issued_at);
)sql",
      // 6: the API server's admin accounts. Only hashes of secrets are stored (auth_store.h).
      // Login failures are kept per attempt, not as counters, so a window can slide over them.
      R"sql(
CREATE TABLE users (
  name                 TEXT PRIMARY KEY,
  password_hash        TEXT NOT NULL,
  role                 TEXT NOT NULL CHECK (role IN ('operator', 'tenant-admin')),
  tenant               TEXT NOT NULL,
  must_change_password INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
  created_at           INTEGER NOT NULL,
  disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  CHECK ((role = 'operator') = (tenant = ''))
) STRICT;

CREATE TABLE sessions (
  id_hash      TEXT PRIMARY KEY,
  user         TEXT NOT NULL REFERENCES users(name),
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions(user);

CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  secret_hash  TEXT NOT NULL,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('operator', 'tenant-admin')),
  tenant       TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  revoked_at   INTEGER,
  last_used_at INTEGER,
  CHECK ((role = 'operator') = (tenant = ''))
) STRICT;
CREATE INDEX api_tokens_by_tenant ON api_tokens(tenant, created_at);

CREATE TABLE login_failures (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  user    TEXT NOT NULL,
  address TEXT NOT NULL,
  at      INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_by_user ON login_failures(user, at);
CREATE INDEX login_failures_by_address ON login_failures(address, at);
CREATE INDEX login_failures_by_time ON login_failures(at);
)sql",
      // 7: handshake outcomes per minute, added up from the gateways' batches. It reads and
      // references no other table and may run again over itself, so it applies the same
      // wherever it stands in this list.
      R"sql(
CREATE TABLE IF NOT EXISTS handshake_counts (
  minute  INTEGER NOT NULL CHECK (minute % 60 = 0),
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused')),
  reason  TEXT NOT NULL,
  count   INTEGER NOT NULL CHECK (count > 0),
  PRIMARY KEY (minute, outcome, reason)
) STRICT, WITHOUT ROWID;
)sql",
  };
  return migrations;
}

}  // namespace tether::store

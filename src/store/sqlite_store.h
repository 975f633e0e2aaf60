// The embedded store: one SQLite database file in WAL mode.
//
// Threading rule: one SqliteStore per thread. A handle (its connection and its cache of prepared
// statements) must not be used by two threads at once; open another handle instead, which is
// cheap. Any number of handles, in any number of processes, may share the file: readers never
// block (WAL), and writers serialise on SQLite's write lock, each waiting up to
// kBusyTimeoutMs (10 s) for the one before it, then failing with Errc::store_busy.
//
// Revocations are pushed (subscribe()) to listeners in this process registered through any
// handle on the same file; other processes see them by polling revocations_after().
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

struct sqlite3;

namespace tether::store {

class InProcessListeners;
class StatementCache;

class SqliteStore final : public Store {
 public:
  // How long a writer waits for another handle's transaction before giving up.
  static constexpr int kBusyTimeoutMs = 10000;

  // Opens (creating if needed) the database at `path` and applies pending migrations.
  // Composition points use store::open (open.h) instead.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

  Result<std::optional<std::string>> get_setting(const std::string& key) override;
  Status record_ca_init(const std::vector<std::pair<std::string, std::string>>& settings,
                        const AuditEvent& event) override;
  Status create_tenant(const TenantRecord& tenant, const AuditEvent& event) override;
  Result<std::vector<TenantRecord>> list_tenants() override;
  Result<bool> tenant_exists(const std::string& tenant_id) override;
  Status create_connector(const ConnectorRecord& connector, const CertificateRecord& cert,
                          const AuditEvent& event) override;
  Status create_connectors(const std::vector<NewConnector>& batch) override;
  Result<std::optional<ConnectorRecord>> find_connector(const std::string& tenant_id,
                                                        const std::string& id) override;
  Result<std::vector<ConnectorRecord>> list_connectors(
      const std::optional<std::string>& tenant_id) override;
  Status add_certificate(const CertificateRecord& cert, const AuditEvent& event) override;
  Result<std::vector<CertificateRecord>> list_certificates(
      const CertificateFilter& filter) override;
  Result<std::optional<CertificateRecord>> find_certificate_by_serial(
      const std::string& serial) override;
  Result<std::vector<CertificateRecord>> list_certificates_by_issuer(
      const std::string& issuer_fingerprint) override;
  Result<std::vector<std::string>> revoke(const std::string& tenant_id,
                                          const std::string& connector_id,
                                          const std::optional<std::string>& serial, int reason,
                                          int64_t at, const AuditEvent& event) override;
  Status create_named_certificate(const CertificateRecord& cert, const AuditEvent& event) override;
  Result<std::vector<std::string>> revoke_named(const std::string& kind, const std::string& name,
                                                const std::optional<std::string>& serial,
                                                int reason, int64_t at,
                                                const AuditEvent& event) override;
  Result<CrlSnapshot> next_crl(const AuditEvent& event) override;
  Result<std::vector<RevocationEntry>> revocations_after(int64_t cursor, int limit) override;
  Subscription subscribe(Listener listener) override;
  Result<std::vector<AuditEvent>> list_audit(int limit) override;

  // ActivityLog (activity_log.h), in sqlite_activity.cc.
  Status record_presentations(const std::vector<Presentation>& presentations) override;
  Status add_handshake_counts(const std::vector<HandshakeCount>& counts) override;
  Result<std::vector<HandshakeCount>> handshake_counts(int64_t since, int64_t until) override;

  // AuthStore (sqlite_auth.cc).
  Result<bool> has_users() override;
  Status create_user(const UserRecord& user, const AuditEvent& event) override;
  Result<bool> create_first_user(const UserRecord& user, const AuditEvent& event) override;
  Result<std::optional<UserRecord>> find_user(const std::string& name) override;
  Result<std::vector<UserRecord>> list_users() override;
  Status set_password(const std::string& user, const std::string& password_hash,
                      bool must_change_password, const std::string& keep_session_hash,
                      const AuditEvent& event) override;
  Status create_session(const SessionRecord& session, const AuditEvent& event) override;
  Result<std::optional<SessionRecord>> find_session(const std::string& id_hash) override;
  Status touch_session(const std::string& id_hash, int64_t at) override;
  Status delete_session(const std::string& id_hash, const AuditEvent& event) override;
  Status delete_expired_sessions(int64_t idle_before, int64_t created_before) override;
  Status create_api_token(const ApiTokenRecord& token, const AuditEvent& event) override;
  Result<std::optional<ApiTokenRecord>> find_api_token(const std::string& id) override;
  Result<std::vector<ApiTokenRecord>> list_api_tokens(
      const std::optional<std::string>& tenant) override;
  Result<bool> revoke_api_token(const std::string& id, int64_t at,
                                const AuditEvent& event) override;
  Status touch_api_token(const std::string& id, int64_t at) override;
  Status record_login_failure(const std::string& user, const std::string& address, int64_t at,
                              int64_t forget_before) override;
  Result<std::vector<int64_t>> login_failures_for_user(const std::string& user, int64_t since,
                                                       int limit) override;
  Result<std::vector<int64_t>> login_failures_from_address(const std::string& address,
                                                           int64_t since, int limit) override;
  Status clear_login_failures(const std::string& user) override;

  // The schema version this build writes (PRAGMA user_version).
  static int schema_version();

 private:
  explicit SqliteStore(sqlite3* db, std::string path);
  template <class F>
  Status in_transaction(F&& body);
  // Revokes the unrevoked certificates `select_sql` (bound by `bind`) names; `owner` names them
  // in the error when none matched.
  template <class Bind>
  Result<std::vector<std::string>> revoke_where(const char* select_sql, Bind&& bind,
                                                const std::string& owner,
                                                const std::optional<std::string>& serial,
                                                int reason, int64_t at, const AuditEvent& event);

  sqlite3* db_;
  std::string path_;
  std::unique_ptr<StatementCache> statements_;
  std::shared_ptr<InProcessListeners> listeners_;

  // Issuance batches (sqlite_batch.cc).
 public:
  Result<std::vector<Status>> commit_batch(const std::vector<IssuanceWrite>& writes) override;

 private:
  // True while commit_batch holds the transaction: a write made inside it (create_connector,
  // add_certificate, ...) runs in the batch's transaction and savepoint, not a transaction of
  // its own (in_transaction).
  bool in_batch_ = false;
};

}  // namespace tether::store

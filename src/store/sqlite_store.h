// The embedded store: one SQLite database file in WAL mode.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

struct sqlite3;

namespace tether::store {

class StatementCache;

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database at `path` and applies pending migrations.
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
  Result<std::vector<AuditEvent>> list_audit(int limit) override;

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
};

}  // namespace tether::store

// The certificate store: everything the CA issued and every event, behind one interface.
//
// Each mutating call is one transaction: it either happens entirely, audit event included, or
// not at all. SQLite is the embedded implementation (sqlite_store.h); PostgreSQL comes later.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace tether::store {

struct TenantRecord {
  std::string id;
  std::string name;
  int64_t created_at = 0;
};

struct CertificateRecord {
  std::string serial;  // lowercase hex, unique
  // "connector", "gateway", "service" or "admin", and the identity's name within its kind (for
  // a connector its id; tenant_id and connector_id are empty for every other kind).
  std::string kind = "connector";
  std::string name;
  std::string tenant_id;
  std::string connector_id;
  std::string identity;  // e.g. "connector/acme/edge-1"
  std::string subject;
  std::string key_type;
  int64_t not_before = 0;
  int64_t not_after = 0;
  std::string fingerprint;  // SHA-256 hex, unique
  std::string pem;
  int64_t issued_at = 0;
  bool csr_mode = false;
  // Set once revoked.
  std::optional<int64_t> revoked_at;
  int revocation_reason = 0;
};

struct AuditEvent {
  int64_t at = 0;
  std::string actor;   // who: "cli:root"
  std::string action;  // what: "ca.init", "connector.create", "certificate.revoke", ...
  std::string identity;
  std::string serial;
  std::string detail;  // JSON object text
};

struct ConnectorRecord {
  std::string tenant_id;
  std::string id;
  int64_t created_at = 0;
};

// One connector with its first certificate and the audit event that records both.
struct NewConnector {
  ConnectorRecord connector;
  CertificateRecord certificate;
  AuditEvent event;
};

struct CertificateFilter {
  std::optional<std::string> tenant_id = std::nullopt;
  std::optional<std::string> connector_id = std::nullopt;
  std::optional<std::string> kind = std::nullopt;  // "connector", "gateway", ...
  std::optional<std::string> name = std::nullopt;
};

// One recorded revocation, with its position in the store's revocation log.
struct RevocationEntry {
  int64_t cursor = 0;
  std::string serial;
};

struct CrlSnapshot {
  uint64_t crl_number = 0;
  std::vector<CertificateRecord> revoked;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<std::optional<std::string>> get_setting(const std::string& key) = 0;
  // Records CA initialisation: settings and the audit event together.
  virtual Status record_ca_init(const std::vector<std::pair<std::string, std::string>>& settings,
                                const AuditEvent& event) = 0;

  virtual Status create_tenant(const TenantRecord& tenant, const AuditEvent& event) = 0;
  virtual Result<std::vector<TenantRecord>> list_tenants() = 0;
  virtual Result<bool> tenant_exists(const std::string& tenant_id) = 0;

  // Creates the connector and its first certificate. Errc::already_exists names what clashed
  // (the connector, or the serial: the caller then issues again with a fresh serial).
  virtual Status create_connector(const ConnectorRecord& connector, const CertificateRecord& cert,
                                  const AuditEvent& event) = 0;
  // Many connectors in one transaction (bulk creation): all are recorded or none. One commit,
  // so one fsync, for the whole batch.
  virtual Status create_connectors(const std::vector<NewConnector>& batch) = 0;
  virtual Result<std::optional<ConnectorRecord>> find_connector(const std::string& tenant_id,
                                                                const std::string& id) = 0;
  virtual Result<std::vector<ConnectorRecord>> list_connectors(
      const std::optional<std::string>& tenant_id) = 0;
  // Adds a certificate to an existing connector (renewal).
  virtual Status add_certificate(const CertificateRecord& cert, const AuditEvent& event) = 0;
  virtual Result<std::vector<CertificateRecord>> list_certificates(
      const CertificateFilter& filter) = 0;

  // Records the first certificate of a gateway, service or admin identity (cert.kind, cert.name).
  // Errc::already_exists when that identity has a certificate already (renewal goes through
  // add_certificate), or Errc::serial_collision as create_connector.
  virtual Status create_named_certificate(const CertificateRecord& cert,
                                          const AuditEvent& event) = 0;

  // Revokes the connector's certificates that are not yet revoked (only `serial` when given).
  // Returns the serials revoked; Errc::not_found when nothing matched.
  virtual Result<std::vector<std::string>> revoke(const std::string& tenant_id,
                                                  const std::string& connector_id,
                                                  const std::optional<std::string>& serial,
                                                  int reason, int64_t at,
                                                  const AuditEvent& event) = 0;

  // The same for the certificates of a gateway, service or admin identity.
  virtual Result<std::vector<std::string>> revoke_named(const std::string& kind,
                                                        const std::string& name,
                                                        const std::optional<std::string>& serial,
                                                        int reason, int64_t at,
                                                        const AuditEvent& event) = 0;

  // Revocations recorded after `cursor` (0: from the start), oldest first, at most `limit`.
  // Revocations are never deleted, so following the cursor sees each one exactly once: the
  // change feed gateways follow.
  virtual Result<std::vector<RevocationEntry>> revocations_after(int64_t cursor, int limit) = 0;

  // Takes the next CRL number and the revoked certificates in one transaction.
  virtual Result<CrlSnapshot> next_crl(const AuditEvent& event) = 0;

  virtual Result<std::vector<AuditEvent>> list_audit(int limit) = 0;
};

}  // namespace tether::store

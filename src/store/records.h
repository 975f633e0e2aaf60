// What the store records: plain data shared by every store interface and adapter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

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
  // SHA-256 hex of the CA certificate that signed this one (the same form as `fingerprint`):
  // a fingerprint and not the issuer's name, as a renewed CA keeps its name but not its key.
  std::string issuer_fingerprint;
  // When a gateway last saw this certificate in a handshake, if one recorded it.
  std::optional<int64_t> last_presented_at;
};

// "Certificate `serial` was presented at a gateway at `at`."
struct Presentation {
  std::string serial;
  int64_t at = 0;
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

// Handshakes of one outcome and reason that ended within one minute, at one or more gateways.
struct HandshakeCount {
  int64_t minute = 0;   // unix seconds of the minute's start (a multiple of 60)
  std::string outcome;  // "ok" or "refused"
  std::string reason;   // the HandshakeReason token ("ok", "unknown_issuer", "revoked", ...)
  int64_t count = 0;
};

// A certificate for an identity that has one already (a renewal, of a connector or of a named
// identity), with its audit event.
struct AddedCertificate {
  CertificateRecord certificate;
  AuditEvent event;
};

// The first certificate of a gateway, service or admin identity, with its audit event.
struct NewNamedCertificate {
  CertificateRecord certificate;
  AuditEvent event;
};

// One issuance's write: what CertificateStore::commit_batch records, many in one transaction.
using IssuanceWrite = std::variant<NewConnector, NewNamedCertificate, AddedCertificate>;

// The certificate an issuance's write records.
inline const CertificateRecord& certificate_of(const IssuanceWrite& write) {
  return std::visit([](const auto& w) -> const CertificateRecord& { return w.certificate; }, write);
}

}  // namespace tether::store

// The CA's registry: tenants, connectors and every certificate issued, with their revocations.
// The certificate lifecycle (pki/lifecycle.h) writes it; the CLI (later the portal) reads it.
//
// Each mutating call is one transaction: it happens entirely, its audit event included, or not
// at all.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/error.h"
#include "store/records.h"

namespace tether::store {

class CertificateStore {
 public:
  virtual ~CertificateStore() = default;

  virtual Status create_tenant(const TenantRecord& tenant, const AuditEvent& event) = 0;
  virtual Result<std::vector<TenantRecord>> list_tenants() = 0;  // by id
  virtual Result<bool> tenant_exists(const std::string& tenant_id) = 0;

  // Creates the connector and its first certificate. Errc::already_exists names what clashed
  // (the connector); Errc::serial_collision when the serial is taken (the caller then issues
  // again with a fresh serial).
  virtual Status create_connector(const ConnectorRecord& connector, const CertificateRecord& cert,
                                  const AuditEvent& event) = 0;
  // Many connectors in one transaction (bulk creation): all are recorded or none. One commit,
  // so one fsync, for the whole batch.
  virtual Status create_connectors(const std::vector<NewConnector>& batch) = 0;
  virtual Result<std::optional<ConnectorRecord>> find_connector(const std::string& tenant_id,
                                                                const std::string& id) = 0;
  // By tenant, then id.
  virtual Result<std::vector<ConnectorRecord>> list_connectors(
      const std::optional<std::string>& tenant_id) = 0;

  // Records the first certificate of a gateway, service or admin identity (cert.kind, cert.name).
  // Errc::already_exists when that identity has a certificate already (renewal goes through
  // add_certificate), or Errc::serial_collision as create_connector.
  virtual Status create_named_certificate(const CertificateRecord& cert,
                                          const AuditEvent& event) = 0;

  // Adds a certificate to an existing connector (renewal).
  virtual Status add_certificate(const CertificateRecord& cert, const AuditEvent& event) = 0;
  // By tenant, connector, issue time, serial.
  virtual Result<std::vector<CertificateRecord>> list_certificates(
      const CertificateFilter& filter) = 0;
  // The certificate with this serial (lowercase hex, as stored), revoked or not.
  virtual Result<std::optional<CertificateRecord>> find_certificate_by_serial(
      const std::string& serial) = 0;
  // Every certificate signed by the CA certificate with this SHA-256 fingerprint, by issue time
  // then serial.
  virtual Result<std::vector<CertificateRecord>> list_certificates_by_issuer(
      const std::string& issuer_fingerprint) = 0;

  // Revokes the connector's certificates that are not yet revoked (only `serial` when given),
  // with one audit event per certificate. Returns the serials revoked; Errc::not_found when
  // nothing matched. The revocations then appear in the revocation feed (revocation_feed.h).
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

  // Takes the next CRL number (1, 2, ...: never reused) and the revoked certificates in one
  // transaction.
  virtual Result<CrlSnapshot> next_crl(const AuditEvent& event) = 0;

  // Records many issuances in one transaction: one commit, so one fsync, for all of them (the
  // issuance queue of `tether server`, pki/issuance_queue.h). Each write is recorded as
  // create_connector, create_named_certificate or add_certificate would record it, in a
  // savepoint of its own: one that fails (Errc::already_exists, not_found, serial_collision) is
  // rolled back alone and the others commit. Returns one Status per write, in order. An error
  // instead (the transaction could not begin or commit, Errc::store_busy or store_error) means
  // no write of the batch may be taken as recorded.
  virtual Result<std::vector<Status>> commit_batch(const std::vector<IssuanceWrite>& writes) = 0;
};

// Records one issuance's write through the method for its kind: create_connector,
// create_named_certificate or add_certificate.
inline Status record_issuance(CertificateStore& store, const IssuanceWrite& write) {
  return std::visit(
      [&](const auto& w) -> Status {
        using W = std::decay_t<decltype(w)>;
        if constexpr (std::is_same_v<W, NewConnector>) {
          return store.create_connector(w.connector, w.certificate, w.event);
        } else if constexpr (std::is_same_v<W, NewNamedCertificate>) {
          return store.create_named_certificate(w.certificate, w.event);
        } else {
          static_assert(std::is_same_v<W, AddedCertificate>);
          return store.add_certificate(w.certificate, w.event);
        }
      },
      write);
}

}  // namespace tether::store

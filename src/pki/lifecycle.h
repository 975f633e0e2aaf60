// The connector certificate lifecycle: create, renew, revoke, CRL. Each operation validates its
// input first, then issues, then records certificate and audit event in one store transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pki/authority.h"
#include "store/certificate_store.h"

namespace tether::pki {

// Who acts and when; every audit event carries both.
struct Context {
  std::string actor;
  int64_t now = 0;
};

struct IssueRequest {
  std::string tenant;
  std::string connector;
  LeafProfile profile;
  // PEM or DER PKCS#10 request; when set the CA never sees a private key.
  std::optional<std::string> csr;
};

// A renewal: what is not set here is kept from the certificate it replaces (key type, lifetime,
// and mode: a connector that makes its own key renews only with a CSR).
struct RenewRequest {
  std::string tenant;
  std::string connector;
  std::optional<x509::KeyType> key_type;
  std::optional<int> days;
  std::optional<std::string> csr;
};

struct IssuedBundle {
  IssuedCertificate certificate;
  x509::PkeyPtr private_key;  // null in CSR mode
};

Status create_tenant(store::CertificateStore& store, const Context& ctx, const std::string& id,
                     const std::string& name);

// Validates ids, the tenant's existence and (in CSR mode) the CSR, before anything is signed.
Result<IssuedBundle> create_connector(store::CertificateStore& store, const Authority& authority,
                                      const Context& ctx, const IssueRequest& request);
// Creates many connectors at once (bulk import): every request is validated and issued first,
// then all are recorded in one transaction. All or nothing.
Result<std::vector<IssuedBundle>> create_connectors(store::CertificateStore& store,
                                                    const Authority& authority, const Context& ctx,
                                                    const std::vector<IssueRequest>& requests);
Result<IssuedBundle> renew_connector(store::CertificateStore& store, const Authority& authority,
                                     const Context& ctx, const RenewRequest& request);
// The certificate a renewal replaces: the newest unrevoked one, else (every one revoked) the
// newest of all, whose settings are still the connector's last. Null when `certs` is empty.
const store::CertificateRecord* certificate_to_replace(
    const std::vector<store::CertificateRecord>& certs);
// A certificate's lifetime (not_after - not_before) in whole days, rounded to the nearest.
int lifetime_days(const store::CertificateRecord& cert);
// The certificates that still let the connector in: neither revoked nor expired at `now`.
std::vector<const store::CertificateRecord*> usable_certificates(
    const std::vector<const store::CertificateRecord*>& certs, int64_t now);
Result<std::vector<std::string>> revoke_connector(store::CertificateStore& store,
                                                  const Context& ctx, const std::string& tenant,
                                                  const std::string& connector,
                                                  const std::optional<std::string>& serial,
                                                  int reason);

// A CRL of every revoked certificate, with the next crlNumber, valid for `validity_seconds`.
Result<x509::X509CrlPtr> issue_crl(store::CertificateStore& store, const Authority& authority,
                                   const Context& ctx, int64_t validity_seconds);

// "active", "expiring" (within 30 days), "expired" or "revoked".
std::string certificate_status(const store::CertificateRecord& cert, int64_t now);

// Normalises a serial given by a user ("0A:1b", "0x0a1b", "a1b") to the store's canonical form
// (common/hex.h: lowercase, even length).
Result<std::string> normalize_serial(std::string_view text);

}  // namespace tether::pki

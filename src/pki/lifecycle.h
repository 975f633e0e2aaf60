// The certificate lifecycle: create, renew, revoke, CRL, for connectors (which belong to a
// tenant) and for the named identities (gateway, service, admin). Each operation validates its
// input first, then issues, then records certificate and audit event in one store transaction.
//
// Issuances come in two halves. prepare_* validates and signs, and records nothing: it returns
// the bundle with the store write that records it, so a server can sign on many threads and
// commit many writes at once (pki/issuance_queue.h). create_connector, renew_connector,
// issue_named and renew_named are the same preparation followed by that write on its own (the
// CLI's path).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pki/authority.h"
#include "pki/certificate_authority.h"
#include "pki/context.h"
#include "store/certificate_store.h"

namespace tether::pki {

struct IssueRequest {
  std::string tenant;
  std::string connector;
  LeafProfile profile;
  // A parsed PKCS#10 request; when set the CA never sees a private key. Its signature and
  // claims are checked at issuance (Authority::check_csr).
  x509::X509ReqPtr csr;
};

// A renewal: what is not set here is kept from the certificate it replaces (key type, lifetime,
// and mode: a connector that makes its own key renews only with a CSR).
struct RenewRequest {
  std::string tenant;
  std::string connector;
  std::optional<x509::KeyType> key_type;
  std::optional<Days> days;
  x509::X509ReqPtr csr;  // parsed once where it entered (read_csr_file)
};

struct IssuedBundle {
  IssuedCertificate certificate;
  x509::PkeyPtr private_key;  // null in CSR mode
  X509* issuing = nullptr;    // the intermediate that signed it (borrowed from the CA)
};

// A signed certificate not yet recorded. Hand out `bundle` only once `write` is committed
// (IssuanceQueue::submit, CertificateStore::commit_batch). When the write fails with
// Errc::serial_collision (a fresh 127-bit serial was taken), prepare again: that signs anew.
struct PreparedIssuance {
  IssuedBundle bundle;
  store::IssuanceWrite write;
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
                                     const Context& ctx, RenewRequest request);
// The certificate a renewal replaces: the newest unrevoked one, else (every one revoked) the
// newest of all, whose settings are still the connector's last. Null when `certs` is empty.
const store::CertificateRecord* certificate_to_replace(
    const std::vector<store::CertificateRecord>& certs);
// A certificate's lifetime (not_after - not_before) in whole days, rounded to the nearest.
int lifetime_days(const store::CertificateRecord& cert);
// The certificates that still let the connector in: neither revoked nor expired at `now`.
std::vector<const store::CertificateRecord*> usable_certificates(
    const std::vector<const store::CertificateRecord*>& certs, int64_t now);
// `serial`, when given, is in the store's form (normalize_serial).
Result<std::vector<std::string>> revoke_connector(store::CertificateStore& store,
                                                  const Context& ctx, const std::string& tenant,
                                                  const std::string& connector,
                                                  const std::optional<std::string>& serial,
                                                  int reason);

// The preparing halves of create_connector and renew_connector: every check those make before
// signing (ids, the tenant, the connector's existence, the CSR, the renewal's mode), then the
// signature. `store` is only read; the write checks again (the connector may have been made
// meanwhile: Errc::already_exists). The request's CSR is borrowed, not taken.
Result<PreparedIssuance> prepare_create_connector(store::CertificateStore& store,
                                                  const Authority& authority, const Context& ctx,
                                                  const IssueRequest& request);
Result<PreparedIssuance> prepare_renew_connector(store::CertificateStore& store,
                                                 const Authority& authority, const Context& ctx,
                                                 const RenewRequest& request);

// A gateway, service or admin certificate (`tether cert issue --kind`).
struct NamedIssueRequest {
  verify::IdentityKind kind = verify::IdentityKind::service;
  std::string name;
  ServerNames names;  // gateways: at least one; ignored for client kinds
  LeafProfile profile;
  x509::X509ReqPtr csr;
};

// Issues the first certificate of a named identity from the CA its kind calls for (the Server
// CA for gateways, made on first use; the Connector CA otherwise). Errc::already_exists when
// the identity has one: renew it instead.
Result<IssuedBundle> issue_named(store::CertificateStore& store, CertificateAuthority& ca,
                                 const Context& ctx, NamedIssueRequest request);
// A new certificate for an identity that has one. A gateway's DNS and IP names default to those
// of its newest certificate when the request names none.
Result<IssuedBundle> renew_named(store::CertificateStore& store, CertificateAuthority& ca,
                                 const Context& ctx, NamedIssueRequest request);
// The preparing halves of issue_named and renew_named. `ca` makes the Server CA on first use
// (CertificateAuthority::issuer), which is not safe on several threads at once: a server asks
// for its issuers once before it serves.
Result<PreparedIssuance> prepare_issue_named(CertificateAuthority& ca, const Context& ctx,
                                             const NamedIssueRequest& request);
Result<PreparedIssuance> prepare_renew_named(store::CertificateStore& store,
                                             CertificateAuthority& ca, const Context& ctx,
                                             const NamedIssueRequest& request);
Result<std::vector<std::string>> revoke_named(store::CertificateStore& store, const Context& ctx,
                                              verify::IdentityKind kind, const std::string& name,
                                              const std::optional<std::string>& serial, int reason);

// A CRL of every revoked certificate `authority` issued, with the next crlNumber, valid for
// `validity_seconds`.
Result<x509::X509CrlPtr> issue_crl(store::CertificateStore& store, const Authority& authority,
                                   const Context& ctx, int64_t validity_seconds);

// "active", "expiring" (within 30 days), "expired" or "revoked".
std::string certificate_status(const store::CertificateRecord& cert, int64_t now);

// Normalises a serial given by a user ("0A:1b", "0x0a1b", "a1b") to the store's canonical form
// (common/hex.h: lowercase, even length).
Result<std::string> normalize_serial(std::string_view text);

}  // namespace tether::pki

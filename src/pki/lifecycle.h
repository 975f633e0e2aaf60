// The certificate lifecycle: create, renew, revoke, CRL, for connectors (which belong to a
// tenant) and for the named identities (gateway, service, admin). Each operation validates its
// input first, then issues, then records certificate and audit event in one store transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pki/authority.h"
#include "pki/certificate_authority.h"
#include "pki/context.h"
#include "store/store.h"

namespace tether::pki {

struct IssueRequest {
  std::string tenant;
  std::string connector;
  LeafProfile profile;
  // A parsed PKCS#10 request; when set the CA never sees a private key. Its signature and
  // claims are checked at issuance (Authority::check_csr).
  x509::X509ReqPtr csr;
};

struct IssuedBundle {
  IssuedCertificate certificate;
  x509::PkeyPtr private_key;  // null in CSR mode
  X509* issuing = nullptr;    // the intermediate that signed it (borrowed from the CA)
};

Status create_tenant(store::Store& store, const Context& ctx, const std::string& id,
                     const std::string& name);

// Validates ids, the tenant's existence and (in CSR mode) the CSR, before anything is signed.
Result<IssuedBundle> create_connector(store::Store& store, const Authority& authority,
                                      const Context& ctx, const IssueRequest& request);
// Creates many connectors at once (bulk import): every request is validated and issued first,
// then all are recorded in one transaction. All or nothing.
Result<std::vector<IssuedBundle>> create_connectors(store::Store& store, const Authority& authority,
                                                    const Context& ctx,
                                                    const std::vector<IssueRequest>& requests);
Result<IssuedBundle> renew_connector(store::Store& store, const Authority& authority,
                                     const Context& ctx, const IssueRequest& request);
// `serial`, when given, is in the store's form (normalize_serial).
Result<std::vector<std::string>> revoke_connector(store::Store& store, const Context& ctx,
                                                  const std::string& tenant,
                                                  const std::string& connector,
                                                  const std::optional<std::string>& serial,
                                                  int reason);

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
Result<IssuedBundle> issue_named(store::Store& store, CertificateAuthority& ca, const Context& ctx,
                                 const NamedIssueRequest& request);
// A new certificate for an identity that has one. A gateway's DNS and IP names default to those
// of its newest certificate when the request names none.
Result<IssuedBundle> renew_named(store::Store& store, CertificateAuthority& ca, const Context& ctx,
                                 NamedIssueRequest request);
Result<std::vector<std::string>> revoke_named(store::Store& store, const Context& ctx,
                                              verify::IdentityKind kind, const std::string& name,
                                              const std::optional<std::string>& serial, int reason);

// A CRL of every revoked certificate `authority` issued, with the next crlNumber, valid for
// `validity_seconds`.
Result<x509::X509CrlPtr> issue_crl(store::Store& store, const Authority& authority,
                                   const Context& ctx, int64_t validity_seconds);

// "active", "expiring" (within 30 days), "expired" or "revoked".
std::string certificate_status(const store::CertificateRecord& cert, int64_t now);

// Normalises a serial given by a user ("0A:1b", "0x0a1b") to the store's lowercase hex form.
Result<std::string> normalize_serial(std::string_view text);

}  // namespace tether::pki

// One issuing CA: signs leaf certificates and CRLs with its key.
//
// It holds key material only; recording what it issued is the lifecycle's job (lifecycle.h), and
// which of the CA's intermediates signs what is the CertificateAuthority's
// (certificate_authority.h).
#pragma once

#include <cstdint>
#include <string>

#include "pki/profile.h"
#include "verify/identity.h"
#include "x509/build.h"
#include "x509/handles.h"

namespace tether::pki {

struct IssuedCertificate {
  // Issued from a CSR, the public key is copied as encoded bytes and OpenSSL has not decoded it:
  // X509_get0_pubkey() on this object returns null. Re-parse `pem` if you need the key.
  x509::X509Ptr cert;
  std::string serial;       // lowercase hex
  std::string fingerprint;  // SHA-256, lowercase hex
  std::string pem;          // the leaf alone
  std::string key_type;     // e.g. "rsa2048"
  int64_t not_before = 0;
  int64_t not_after = 0;
};

class Authority {
 public:
  Authority(x509::X509Ptr root, x509::X509Ptr issuing, x509::PkeyPtr issuing_key,
            std::string trust_domain, IssuerRole role = IssuerRole::connector_ca);

  // Issues a leaf for `subject` over `subject_key` (the public half is enough). Refuses a kind
  // this CA does not issue (a server certificate from the Connector CA, or the reverse).
  Result<IssuedCertificate> issue(const LeafSubject& subject, x509::SubjectKey subject_key,
                                  Days days, int64_t now) const;
  Result<IssuedCertificate> issue(const verify::Identity& identity, x509::SubjectKey subject_key,
                                  Days days, int64_t now) const {
    return issue(LeafSubject{identity, {}}, subject_key, days, now);
  }

  // Checks a CSR before issuing for it: its signature verifies (proof of possession), its key is
  // one we accept, and it claims no identity or name other than the subject's. Returns its key.
  Result<x509::PkeyPtr> check_csr(X509_REQ* csr, const LeafSubject& subject) const;
  Result<x509::PkeyPtr> check_csr(X509_REQ* csr, const verify::Identity& identity) const {
    return check_csr(csr, LeafSubject{identity, {}});
  }

  Result<x509::X509CrlPtr> sign_crl(const x509::CrlSpec& spec) const;

  X509* root() const { return root_.get(); }
  X509* issuing() const { return issuing_.get(); }
  const std::string& trust_domain() const { return trust_domain_; }
  IssuerRole role() const { return role_; }

 private:
  x509::X509Ptr root_;
  x509::X509Ptr issuing_;
  x509::PkeyPtr issuing_key_;
  std::string trust_domain_;
  IssuerRole role_;
};

}  // namespace tether::pki

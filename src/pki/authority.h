// The issuing authority: signs leaf certificates and CRLs with the issuing CA's key.
//
// It holds key material only; recording what it issued is the lifecycle's job (lifecycle.h).
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
            std::string trust_domain);

  // Issues a client certificate for `identity` over `subject_key` (public half is enough).
  Result<IssuedCertificate> issue(const verify::Identity& identity, x509::SubjectKey subject_key,
                                  int days, int64_t now) const;

  // Checks a CSR before issuing for it: its signature verifies (proof of possession), its key is
  // one we accept, and it does not claim an identity other than `identity`. Returns its key.
  Result<x509::PkeyPtr> check_csr(X509_REQ* csr, const verify::Identity& identity) const;

  Result<x509::X509CrlPtr> sign_crl(const x509::CrlSpec& spec) const;

  X509* root() const { return root_.get(); }
  X509* issuing() const { return issuing_.get(); }
  const std::string& trust_domain() const { return trust_domain_; }

 private:
  x509::X509Ptr root_;
  x509::X509Ptr issuing_;
  x509::PkeyPtr issuing_key_;
  std::string trust_domain_;
};

}  // namespace tether::pki

#include "pki/authority.h"

#include "common/time_format.h"
#include "x509/inspect.h"
#include "x509/key.h"
#include "x509/openssl_error.h"
#include "x509/pem.h"

namespace tether::pki {

Authority::Authority(x509::X509Ptr root, x509::X509Ptr issuing, x509::PkeyPtr issuing_key,
                     std::string trust_domain)
    : root_(std::move(root)),
      issuing_(std::move(issuing)),
      issuing_key_(std::move(issuing_key)),
      trust_domain_(std::move(trust_domain)) {}

Result<IssuedCertificate> Authority::issue(const verify::Identity& identity,
                                           x509::SubjectKey subject_key, int days,
                                           int64_t now) const {
  TETHER_TRY(validate_days(days));
  TETHER_ASSIGN_OR_RETURN(x509::KeyType key_type, x509::classify_key(subject_key.key));
  bool rsa = key_type == x509::KeyType::rsa2048 || key_type == x509::KeyType::rsa3072 ||
             key_type == x509::KeyType::rsa4096;
  auto spec = client_leaf_spec(identity, trust_domain_, now, days, rsa);
  // A leaf must not outlive its issuer (RFC 5280 6.1.3 would reject it after the issuer expires).
  if (spec.not_after > x509::not_after(issuing_.get())) {
    return make_error(Errc::invalid_argument,
                      "a " + std::to_string(days) +
                          "-day certificate would outlive the issuing CA (" +
                          format_rfc3339(x509::not_after(issuing_.get())) +
                          "): use fewer --days or rotate the CA");
  }
  TETHER_ASSIGN_OR_RETURN(auto serial, x509::random_serial());
  TETHER_ASSIGN_OR_RETURN(auto cert, x509::build_certificate(spec, subject_key, serial.get(),
                                                             issuing_.get(), issuing_key_.get()));
  IssuedCertificate issued;
  issued.serial = x509::serial_hex(cert.get());
  issued.fingerprint = x509::fingerprint_sha256(cert.get());
  issued.pem = x509::to_pem(cert.get());
  issued.key_type = std::string(x509::key_type_name(key_type));
  issued.not_before = spec.not_before;
  issued.not_after = spec.not_after;
  issued.cert = std::move(cert);
  return issued;
}

Result<x509::PkeyPtr> Authority::check_csr(X509_REQ* csr, const verify::Identity& identity) const {
  EVP_PKEY* key = X509_REQ_get0_pubkey(csr);
  if (key == nullptr) {
    return x509::openssl_error(Errc::bad_csr_signature, "CSR has no usable public key");
  }
  // Proof of possession (RFC 2986 4.2): the request is signed by the key it carries.
  if (X509_REQ_verify(csr, key) != 1) {
    return x509::openssl_error(Errc::bad_csr_signature,
                               "CSR signature does not verify with its own public key: the CSR "
                               "is corrupt or was altered; generate a new one");
  }
  TETHER_TRY(x509::classify_key(key));
  // The CA sets the identity. A CSR may leave the subject empty or name the same identity; one
  // that names another identity is refused rather than silently rewritten.
  std::string cn = x509::common_name(X509_REQ_get_subject_name(csr));
  std::string expected = identity.common_name();
  if (!cn.empty() && cn != expected) {
    return make_error(Errc::csr_identity_mismatch,
                      "CSR subject CN '" + cn + "' claims another identity than '" + expected +
                          "': the CA sets the identity; "
                          "leave the CN empty or use '" +
                          expected + "'");
  }
  x509::X509ExtensionStackPtr exts(X509_REQ_get_extensions(csr));
  if (exts) {
    for (int i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i) {
      X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
      if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
      x509::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
      std::string want = identity.spiffe_uri(trust_domain_);
      for (int j = 0; names && j < sk_GENERAL_NAME_num(names.get()); ++j) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), j);
        std::string value;
        if (gn->type == GEN_URI) {
          const ASN1_IA5STRING* s = gn->d.uniformResourceIdentifier;
          value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
          if (value == want) continue;
        }
        return make_error(Errc::csr_identity_mismatch,
                          "CSR requests subjectAltName entries" +
                              (value.empty() ? std::string() : " ('" + value + "')") +
                              " other than '" + want +
                              "': the CA sets the identity; remove them from the CSR");
      }
    }
  }
  return x509::up_ref(key);
}

Result<x509::X509CrlPtr> Authority::sign_crl(const x509::CrlSpec& spec) const {
  return x509::build_crl(spec, issuing_.get(), issuing_key_.get());
}

}  // namespace tether::pki

#include "pki/authority.h"

#include <algorithm>

#include "common/time_format.h"
#include "x509/inspect.h"
#include "x509/key.h"
#include "x509/openssl_error.h"
#include "x509/pem.h"

namespace tether::pki {

namespace {

// A SAN entry of a CSR as "DNS:x", "IP:x" or "URI:x" (the same spelling as the spec's lists).
std::string san_text(const GENERAL_NAME* gn) {
  auto text = [](const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
  };
  switch (gn->type) {
    case GEN_URI:
      return "URI:" + text(gn->d.uniformResourceIdentifier);
    case GEN_DNS:
      return "DNS:" + text(gn->d.dNSName);
    case GEN_IPADD:
      return "IP:" + x509::ip_address_text(gn->d.iPAddress).value_or("?");
    default:
      return "";
  }
}

}  // namespace

Authority::Authority(x509::X509Ptr root, x509::X509Ptr issuing, x509::PkeyPtr issuing_key,
                     std::string trust_domain, IssuerRole role)
    : root_(std::move(root)),
      issuing_(std::move(issuing)),
      issuing_key_(std::move(issuing_key)),
      trust_domain_(std::move(trust_domain)),
      role_(role) {}

Result<IssuedCertificate> Authority::issue(const LeafSubject& subject, x509::SubjectKey subject_key,
                                           Days days, int64_t now) const {
  const KindProfile& profile = profile_for(subject.identity.kind);
  if (profile.issuer != role_) {
    return make_error(Errc::invalid_argument, "the " + std::string(issuer_common_name(role_)) +
                                                  " does not issue " + std::string(profile.name) +
                                                  " certificates: they come from the " +
                                                  std::string(issuer_common_name(profile.issuer)));
  }
  if (profile.server_names && subject.names.empty()) {
    return make_error(Errc::invalid_argument,
                      "a " + std::string(profile.name) +
                          " certificate needs at least one --dns NAME or --ip ADDRESS: clients "
                          "match the host they dial against these only");
  }
  TETHER_ASSIGN_OR_RETURN(x509::KeyType key_type, x509::classify_key(subject_key.key));
  bool rsa = key_type == x509::KeyType::rsa2048 || key_type == x509::KeyType::rsa3072 ||
             key_type == x509::KeyType::rsa4096;
  auto spec = leaf_spec(subject, trust_domain_, now, days, rsa);
  // A leaf must not outlive its issuer (RFC 5280 6.1.3 would reject it after the issuer expires).
  if (spec.not_after > x509::not_after(issuing_.get())) {
    return make_error(Errc::invalid_argument,
                      "a " + std::to_string(days.count()) +
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

Result<x509::PkeyPtr> Authority::check_csr(X509_REQ* csr, const LeafSubject& subject) const {
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
  std::string expected = subject.identity.common_name();
  if (!cn.empty() && cn != expected) {
    return make_error(Errc::csr_identity_mismatch,
                      "CSR subject CN '" + cn + "' claims another identity than '" + expected +
                          "': the CA sets the identity; "
                          "leave the CN empty or use '" +
                          expected + "'");
  }
  // The names the certificate will carry; a CSR may repeat them, but not ask for others.
  auto spec = leaf_spec(subject, trust_domain_, 0, Days::of(1).value(), false);
  std::vector<std::string> allowed;
  for (const auto& v : spec.uri_sans) allowed.push_back("URI:" + v);
  for (const auto& v : spec.dns_sans) allowed.push_back("DNS:" + v);
  for (const auto& v : spec.ip_sans) allowed.push_back("IP:" + v);
  std::string allowed_text;
  for (const auto& a : allowed) allowed_text += (allowed_text.empty() ? "'" : ", '") + a + "'";
  x509::X509ExtensionStackPtr exts(X509_REQ_get_extensions(csr));
  if (exts) {
    for (int i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i) {
      X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
      if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
      x509::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
      for (int j = 0; names && j < sk_GENERAL_NAME_num(names.get()); ++j) {
        std::string value = san_text(sk_GENERAL_NAME_value(names.get(), j));
        if (!value.empty() && std::find(allowed.begin(), allowed.end(), value) != allowed.end())
          continue;
        return make_error(Errc::csr_identity_mismatch,
                          "CSR requests subjectAltName entries" +
                              (value.empty() ? std::string() : " ('" + value + "')") +
                              " other than " + (allowed_text.empty() ? "none" : allowed_text) +
                              ": the CA sets the identity and names; remove them from the CSR");
      }
    }
  }
  return x509::up_ref(key);
}

Result<x509::X509CrlPtr> Authority::sign_crl(const x509::CrlSpec& spec) const {
  return x509::build_crl(spec, issuing_.get(), issuing_key_.get());
}

}  // namespace tether::pki

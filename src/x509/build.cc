#include "x509/build.h"

#include <openssl/x509v3.h>

#include "x509/openssl_error.h"

namespace tether::x509 {

namespace {

Asn1TimePtr unix_to_asn1(int64_t t) {
  return Asn1TimePtr(ASN1_TIME_set(nullptr, static_cast<time_t>(t)));
}

// Adds one extension written in OpenSSL's config syntax ("critical,CA:TRUE,pathlen:0").
Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext) {
    return openssl_error(Errc::crypto_error, std::string("cannot build extension ") +
                                                 OBJ_nid2sn(nid) + " = '" + value + "'");
  }
  return check(X509_add_ext(cert, ext.get(), -1), Errc::crypto_error, "cannot add extension");
}

std::string join_sans(const CertificateSpec& spec) {
  std::string out;
  auto add = [&](const char* kind, const std::string& value) {
    if (!out.empty()) out += ',';
    out += kind;
    out += ':';
    out += value;
  };
  for (const auto& v : spec.uri_sans) add("URI", v);
  for (const auto& v : spec.dns_sans) add("DNS", v);
  for (const auto& v : spec.ip_sans) add("IP", v);
  return out;
}

// Copies algorithm, parameters and key bits of a SubjectPublicKeyInfo without decoding the key.
Status copy_spki(X509_PUBKEY* to, const X509_PUBKEY* from) {
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* algor = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, &algor, from) != 1 || bits_len <= 0) {
    return openssl_error(Errc::crypto_error, "cannot read the request's public key");
  }
  const ASN1_OBJECT* algorithm = nullptr;
  int param_type = 0;
  const void* param = nullptr;
  X509_ALGOR_get0(&algorithm, &param_type, &param, algor);
  Asn1ObjectPtr algorithm_copy(OBJ_dup(algorithm));
  void* param_copy = nullptr;
  if (param_type == V_ASN1_OBJECT) {
    param_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(param));
  } else if (param_type != V_ASN1_NULL && param_type != V_ASN1_UNDEF && param != nullptr) {
    param_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param));
  }
  OpensslBytes bits_copy(
      static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<size_t>(bits_len))));
  if (!algorithm_copy || !bits_copy) {
    return openssl_error(Errc::crypto_error, "out of memory copying a public key");
  }
  // set0 takes ownership of everything it is given, also on failure paths we do not reach here.
  if (X509_PUBKEY_set0_param(to, algorithm_copy.release(), param_type, param_copy,
                             bits_copy.release(), bits_len) != 1) {
    return openssl_error(Errc::crypto_error, "cannot set the certificate's public key");
  }
  return ok_status();
}

}  // namespace

const EVP_MD* signing_digest(EVP_PKEY* signing_key) {
  if (EVP_PKEY_is_a(signing_key, "EC") && EVP_PKEY_get_bits(signing_key) >= 384) {
    return EVP_sha384();
  }
  return EVP_sha256();
}

Result<X509NamePtr> build_name(const std::vector<std::pair<std::string, std::string>>& attrs) {
  X509NamePtr name(X509_NAME_new());
  for (const auto& [field, value] : attrs) {
    if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return openssl_error(Errc::invalid_argument,
                           "cannot put " + field + "='" + value + "' in a name");
    }
  }
  return name;
}

Result<X509Ptr> build_certificate(const CertificateSpec& spec, SubjectKey subject_key,
                                  const ASN1_INTEGER* serial, X509* issuer, EVP_PKEY* signing_key) {
  X509Ptr cert(X509_new());
  TETHER_TRY(
      check(X509_set_version(cert.get(), X509_VERSION_3), Errc::crypto_error, "set version"));
  TETHER_TRY(check(X509_set_serialNumber(cert.get(), const_cast<ASN1_INTEGER*>(serial)),
                   Errc::crypto_error, "set serial"));
  TETHER_ASSIGN_OR_RETURN(auto subject, build_name(spec.subject));
  TETHER_TRY(
      check(X509_set_subject_name(cert.get(), subject.get()), Errc::crypto_error, "subject"));
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : subject.get();
  TETHER_TRY(check(X509_set_issuer_name(cert.get(), issuer_name), Errc::crypto_error, "issuer"));
  auto nb = unix_to_asn1(spec.not_before);
  auto na = unix_to_asn1(spec.not_after);
  TETHER_TRY(check(X509_set1_notBefore(cert.get(), nb.get()), Errc::crypto_error, "notBefore"));
  TETHER_TRY(check(X509_set1_notAfter(cert.get(), na.get()), Errc::crypto_error, "notAfter"));
  if (subject_key.spki != nullptr) {
    TETHER_TRY(copy_spki(X509_get_X509_PUBKEY(cert.get()), subject_key.spki));
  } else {
    TETHER_TRY(
        check(X509_set_pubkey(cert.get(), subject_key.key), Errc::crypto_error, "public key"));
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);

  std::string bc = spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (spec.is_ca && spec.path_len) bc += ",pathlen:" + std::to_string(*spec.path_len);
  TETHER_TRY(add_extension(cert.get(), &ctx, NID_basic_constraints, bc));
  if (!spec.key_usage.empty()) {
    TETHER_TRY(add_extension(cert.get(), &ctx, NID_key_usage, "critical," + spec.key_usage));
  }
  if (!spec.extended_key_usage.empty()) {
    TETHER_TRY(add_extension(cert.get(), &ctx, NID_ext_key_usage, spec.extended_key_usage));
  }
  TETHER_TRY(add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  // RFC 5280 4.2.1.1: AKI is omitted only in self-signed roots, where it may still be present.
  if (issuer != nullptr) {
    TETHER_TRY(add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  }
  std::string sans = join_sans(spec);
  if (!sans.empty()) TETHER_TRY(add_extension(cert.get(), &ctx, NID_subject_alt_name, sans));

  if (X509_sign(cert.get(), signing_key, signing_digest(signing_key)) <= 0) {
    return openssl_error(Errc::crypto_error, "cannot sign certificate");
  }
  return cert;
}

Result<X509ReqPtr> build_csr(EVP_PKEY* key, const std::string& common_name) {
  X509ReqPtr req(X509_REQ_new());
  TETHER_ASSIGN_OR_RETURN(auto name, build_name({{"CN", common_name}}));
  TETHER_TRY(
      check(X509_REQ_set_subject_name(req.get(), name.get()), Errc::crypto_error, "subject"));
  TETHER_TRY(check(X509_REQ_set_pubkey(req.get(), key), Errc::crypto_error, "public key"));
  if (X509_REQ_sign(req.get(), key, signing_digest(key)) <= 0) {
    return openssl_error(Errc::crypto_error, "cannot sign CSR");
  }
  return req;
}

Result<X509CrlPtr> build_crl(const CrlSpec& spec, X509* issuer, EVP_PKEY* signing_key) {
  X509CrlPtr crl(X509_CRL_new());
  TETHER_TRY(
      check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), Errc::crypto_error, "version"));
  TETHER_TRY(check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)),
                   Errc::crypto_error, "issuer"));
  auto this_update = unix_to_asn1(spec.this_update);
  auto next_update = unix_to_asn1(spec.next_update);
  TETHER_TRY(check(X509_CRL_set1_lastUpdate(crl.get(), this_update.get()), Errc::crypto_error,
                   "thisUpdate"));
  TETHER_TRY(check(X509_CRL_set1_nextUpdate(crl.get(), next_update.get()), Errc::crypto_error,
                   "nextUpdate"));

  for (const auto& entry : spec.entries) {
    X509RevokedPtr revoked(X509_REVOKED_new());
    BIGNUM* raw_bn = nullptr;
    if (BN_hex2bn(&raw_bn, entry.serial_hex.c_str()) == 0) {
      return make_error(Errc::invalid_argument,
                        "bad serial '" + entry.serial_hex + "' in CRL entry");
    }
    BignumPtr bn(raw_bn);
    Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    auto when = unix_to_asn1(entry.revoked_at);
    TETHER_TRY(check(X509_REVOKED_set_serialNumber(revoked.get(), serial.get()), Errc::crypto_error,
                     "serial"));
    TETHER_TRY(check(X509_REVOKED_set_revocationDate(revoked.get(), when.get()), Errc::crypto_error,
                     "date"));
    // RFC 5280 5.3.1: the reasonCode extension should be absent rather than "unspecified".
    if (entry.reason != 0) {
      Asn1EnumeratedPtr reason(ASN1_ENUMERATED_new());
      ASN1_ENUMERATED_set(reason.get(), entry.reason);
      TETHER_TRY(check(X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, reason.get(), 0, 0),
                       Errc::crypto_error, "reason"));
    }
    TETHER_TRY(
        check(X509_CRL_add0_revoked(crl.get(), revoked.get()), Errc::crypto_error, "add entry"));
    revoked.release();
  }
  X509_CRL_sort(crl.get());

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, nullptr, nullptr, crl.get(), 0);
  X509ExtensionPtr aki(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki) return openssl_error(Errc::crypto_error, "cannot build CRL authorityKeyIdentifier");
  TETHER_TRY(check(X509_CRL_add_ext(crl.get(), aki.get(), -1), Errc::crypto_error, "add AKI"));

  BignumPtr number_bn(BN_new());
  BN_set_word(number_bn.get(), spec.crl_number);
  Asn1IntegerPtr number(BN_to_ASN1_INTEGER(number_bn.get(), nullptr));
  TETHER_TRY(check(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0),
                   Errc::crypto_error, "crlNumber"));

  if (X509_CRL_sign(crl.get(), signing_key, signing_digest(signing_key)) <= 0) {
    return openssl_error(Errc::crypto_error, "cannot sign CRL");
  }
  return crl;
}

}  // namespace tether::x509

#include "verify/strict_checks.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "verify/name_rules.h"
#include "x509/inspect.h"

namespace tether::verify {

namespace {

// RFC 5280 4.2.1.3 names of the keyUsage bits, with OpenSSL's masks.
constexpr std::array<std::pair<std::string_view, uint32_t>, 9> kKeyUsageBits{{
    {"digitalSignature", KU_DIGITAL_SIGNATURE},
    {"contentCommitment", KU_NON_REPUDIATION},
    {"nonRepudiation", KU_NON_REPUDIATION},
    {"keyEncipherment", KU_KEY_ENCIPHERMENT},
    {"dataEncipherment", KU_DATA_ENCIPHERMENT},
    {"keyAgreement", KU_KEY_AGREEMENT},
    {"keyCertSign", KU_KEY_CERT_SIGN},
    {"cRLSign", KU_CRL_SIGN},
    {"encipherOnly", KU_ENCIPHER_ONLY},
}};

bool self_issued(X509* cert) {
  return X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0;
}

// RFC 5280 4.1.2.2: a positive integer of at most 20 octets.
Status check_serial(X509* cert, size_t depth) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  const unsigned char* data = ASN1_STRING_get0_data(serial);
  int len = ASN1_STRING_length(serial);
  bool zero = std::all_of(data, data + len, [](unsigned char b) { return b == 0; });
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER || zero) {
    return make_error(Errc::bad_serial, x509::describe_at_depth(cert, depth) + ": serial number " +
                                            x509::serial_hex(serial) +
                                            " is not positive (RFC 5280 4.1.2.2)");
  }
  // DER adds a leading zero octet when the top bit is set.
  int encoded = len + ((data[0] & 0x80) != 0 ? 1 : 0);
  if (encoded > 20) {
    return make_error(Errc::bad_serial, x509::describe_at_depth(cert, depth) +
                                            ": serial number is " + std::to_string(encoded) +
                                            " octets long, over 20 (RFC 5280 4.1.2.2)");
  }
  return ok_status();
}

// RFC 5280 4.2.1.1: every certificate but a self-signed one names its issuer's key by
// keyIdentifier. tether also refuses the issuer-and-serial form (it binds a certificate to one
// issuer certificate, which breaks re-issued CAs) and a self-signed certificate whose AKI does
// not name its own key.
Status check_authority_key_id(X509* cert, size_t depth, bool anchor) {
  int critical = -1;
  x509::AuthorityKeyIdPtr aki(static_cast<AUTHORITY_KEYID*>(
      X509_get_ext_d2i(cert, NID_authority_key_identifier, &critical, nullptr)));
  if (critical == -1) {
    // A trust anchor is a name and a key (RFC 5280 6.1.1 (d)): it needs no AKI to be found.
    if (self_issued(cert) || anchor) return ok_status();
    return make_error(Errc::bad_extension,
                      x509::describe_at_depth(cert, depth) +
                          ": no authorityKeyIdentifier in a certificate that is not self-issued "
                          "(RFC 5280 4.2.1.1)");
  }
  if (aki == nullptr) {
    return make_error(Errc::bad_extension, x509::describe_at_depth(cert, depth) +
                                               ": authorityKeyIdentifier is malformed");
  }
  if (aki->keyid == nullptr) {
    return make_error(Errc::bad_extension, x509::describe_at_depth(cert, depth) +
                                               ": authorityKeyIdentifier has no keyIdentifier "
                                               "(RFC 5280 4.2.1.1: it MUST be included)");
  }
  if (aki->issuer != nullptr || aki->serial != nullptr) {
    return make_error(Errc::bad_extension,
                      x509::describe_at_depth(cert, depth) +
                          ": authorityKeyIdentifier names an issuer certificate by name and "
                          "serial; tether accepts the keyIdentifier form only");
  }
  // A self-signed certificate whose AKI names another key. OpenSSL's EXFLAG_SS already requires
  // a matching AKI, so only a self-issued certificate without it costs a signature check (a key
  // rollover certificate is self-issued, signed by the old key, and rightly names that key).
  if ((X509_get_extension_flags(cert) & EXFLAG_SS) == 0 && self_issued(cert) &&
      X509_verify(cert, X509_get0_pubkey(cert)) == 1) {
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert);
    if (ski != nullptr && ASN1_OCTET_STRING_cmp(ski, aki->keyid) != 0) {
      return make_error(Errc::bad_extension,
                        x509::describe_at_depth(cert, depth) +
                            ": self-signed, but its authorityKeyIdentifier differs from its "
                            "subjectKeyIdentifier");
    }
  }
  return ok_status();
}

// Every extension OpenSSL knows how to read must decode; OpenSSL itself only checks some.
Status check_extensions_decode(X509* cert, size_t depth) {
  for (int i = 0; i < X509_get_ext_count(cert); ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    const X509V3_EXT_METHOD* method = X509V3_EXT_get(ext);
    if (method == nullptr) continue;
    x509::DecodedExtension decoded(method, X509V3_EXT_d2i(ext));
    if (decoded.get() == nullptr) {
      char oid[80];
      OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(ext), 0);
      return make_error(Errc::bad_extension, x509::describe_at_depth(cert, depth) + ": extension " +
                                                 oid + " is malformed");
    }
  }
  // RFC 5280 4.2.1.11: policyConstraints MUST be critical.
  int pc = X509_get_ext_by_NID(cert, NID_policy_constraints, -1);
  if (pc >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, pc)) == 0) {
    return make_error(Errc::bad_extension, x509::describe_at_depth(cert, depth) +
                                               ": policyConstraints is not critical (RFC 5280 "
                                               "4.2.1.11: conforming CAs MUST mark it critical)");
  }
  return ok_status();
}

// RSA (modulus a whole number of octets; size is security level 2's business), ECDSA on
// P-256, P-384 or P-521 by name, Ed25519 and Ed448. DSA, other curves and explicit curve
// parameters are refused.
Status check_key(X509* cert, size_t depth) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) {
    return make_error(Errc::unsupported_key,
                      x509::describe_at_depth(cert, depth) + ": public key does not decode");
  }
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      if (EVP_PKEY_get_bits(key) % 8 != 0) {
        return make_error(Errc::unsupported_key, x509::describe_at_depth(cert, depth) +
                                                     ": RSA modulus of " +
                                                     std::to_string(EVP_PKEY_get_bits(key)) +
                                                     " bits is not a whole number of octets");
      }
      return ok_status();
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) {
        return make_error(Errc::unsupported_key,
                          x509::describe_at_depth(cert, depth) +
                              ": EC key with explicit curve parameters; use a named curve");
      }
      std::string_view name(group, len);
      if (name == "prime256v1" || name == "secp384r1" || name == "secp521r1") return ok_status();
      return make_error(Errc::unsupported_key, x509::describe_at_depth(cert, depth) +
                                                   ": EC curve " + std::string(name) +
                                                   " is not accepted; use P-256, P-384 or P-521");
    }
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return ok_status();
    default:
      return make_error(Errc::unsupported_key,
                        x509::describe_at_depth(cert, depth) + ": " +
                            OBJ_nid2sn(EVP_PKEY_get_base_id(key)) +
                            " keys are not accepted; use RSA, ECDSA or EdDSA");
  }
}

// OpenSSL checks the extendedKeyUsage of intermediates against the purpose but not of the
// trust anchor; a CA restricted to other usages must not vouch for this one (as Go and webpki
// check).
Status check_ca_eku(X509* cert, size_t depth, Purpose purpose) {
  if (purpose == Purpose::any || (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) == 0)
    return ok_status();
  uint32_t xku = X509_get_extended_key_usage(cert);
  uint32_t wanted = purpose == Purpose::server ? (XKU_SSL_SERVER | XKU_SGC) : XKU_SSL_CLIENT;
  if ((xku & (wanted | XKU_ANYEKU)) != 0) return ok_status();
  return make_error(Errc::bad_purpose,
                    x509::describe_at_depth(cert, depth) +
                        ": CA's extendedKeyUsage does not include " +
                        (purpose == Purpose::server ? "serverAuth" : "clientAuth"));
}

// The caller's depth limit counts intermediates as RFC 5280's pathLenConstraint does:
// self-issued ones (a CA's key rollover) are not counted.
Status check_depth(const std::vector<X509*>& chain, int max_depth) {
  int intermediates = 0;
  for (size_t i = 1; i + 1 < chain.size(); ++i) {
    if (!self_issued(chain[i])) ++intermediates;
  }
  if (intermediates <= max_depth) return ok_status();
  return make_error(Errc::chain_too_long, "path has " + std::to_string(intermediates) +
                                              " intermediates, more than the limit of " +
                                              std::to_string(max_depth));
}

// RFC 5280 5.2.3: a conforming CRL carries a cRLNumber; tether uses CRLs from the issuers in
// the path only when they do.
Status check_crl_numbers(const std::vector<X509*>& chain,
                         const std::vector<x509::X509CrlPtr>& crls) {
  for (const auto& crl : crls) {
    bool relevant = std::any_of(chain.begin(), chain.end(), [&](X509* c) {
      return X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_issuer_name(c)) == 0;
    });
    if (!relevant) continue;
    int critical = -1;
    x509::Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(
        X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, &critical, nullptr)));
    if (number == nullptr) {
      return make_error(Errc::crl_invalid,
                        "CRL from " + x509::name_to_string(X509_CRL_get_issuer(crl.get())) +
                            " has no cRLNumber (RFC 5280 5.2.3: conforming CRLs MUST)");
    }
  }
  return ok_status();
}

}  // namespace

Status check_chain(const std::vector<X509*>& chain, const VerifyOptions& options) {
  for (size_t depth = 0; depth < chain.size(); ++depth) {
    X509* cert = chain[depth];
    // The trust anchor, unless it is the leaf itself: a leaf is always checked as a leaf.
    bool anchor = depth > 0 && depth + 1 == chain.size();
    // Old roots with serial 0 are still in use; the anchor's serial never identifies anything.
    if (!anchor) TETHER_TRY(check_serial(cert, depth));
    TETHER_TRY(check_authority_key_id(cert, depth, anchor));
    TETHER_TRY(check_extensions_decode(cert, depth));
    TETHER_TRY(check_key(cert, depth));
    if (depth > 0) TETHER_TRY(check_ca_eku(cert, depth, options.purpose));
  }
  TETHER_TRY(check_san_syntax(chain.front()));
  TETHER_TRY(check_name_constraints_form(chain));
  TETHER_TRY(check_expected_names_constrained(chain, options.names));
  if (options.max_depth) TETHER_TRY(check_depth(chain, *options.max_depth));
  TETHER_TRY(check_crl_numbers(chain, options.crls));
  return check_leaf_usages(chain.front(), options);
}

Status check_leaf_usages(X509* leaf, const VerifyOptions& options) {
  if (!options.extended_key_usages.empty()) {
    int critical = 0;
    x509::ExtKeyUsagePtr eku(static_cast<EXTENDED_KEY_USAGE*>(
        X509_get_ext_d2i(leaf, NID_ext_key_usage, &critical, nullptr)));
    // Without the extension the key may be used for any purpose (RFC 5280 4.2.1.12).
    if (eku != nullptr) {
      for (const std::string& wanted : options.extended_key_usages) {
        x509::Asn1ObjectPtr oid(OBJ_txt2obj(wanted.c_str(), 0));
        if (oid == nullptr) {
          return make_error(Errc::invalid_argument,
                            "unknown extended key usage '" + wanted +
                                "': use a name such as serverAuth or a dotted OID");
        }
        bool found = false;
        for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i)
          found = found || OBJ_cmp(sk_ASN1_OBJECT_value(eku.get(), i), oid.get()) == 0;
        if (!found) {
          return make_error(Errc::bad_purpose, x509::describe_at_depth(leaf, 0) +
                                                   ": extendedKeyUsage lacks " + wanted);
        }
      }
    }
  }
  if (!options.key_usages.empty()) {
    uint32_t bits = X509_get_key_usage(leaf);  // UINT32_MAX when there is no extension
    for (const std::string& wanted : options.key_usages) {
      const auto* it = std::find_if(kKeyUsageBits.begin(), kKeyUsageBits.end(),
                                    [&](const auto& kv) { return kv.first == wanted; });
      if (it == kKeyUsageBits.end()) {
        return make_error(Errc::invalid_argument, "unknown key usage '" + wanted +
                                                      "': use an RFC 5280 name such as "
                                                      "digitalSignature");
      }
      if ((bits & it->second) == 0) {
        return make_error(Errc::bad_purpose,
                          x509::describe_at_depth(leaf, 0) + ": keyUsage lacks " + wanted);
      }
    }
  }
  return ok_status();
}

}  // namespace tether::verify

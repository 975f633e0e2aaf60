#include "pki/strict_checks.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "x509/inspect.h"

namespace tether::pki {

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

std::string leaf_text(X509* leaf) {
  return "certificate at depth 0 (" + x509::subject_string(leaf) + ")";
}

}  // namespace

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
          return make_error(Errc::bad_purpose,
                            leaf_text(leaf) + ": extendedKeyUsage lacks " + wanted);
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
        return make_error(Errc::invalid_argument,
                          "unknown key usage '" + wanted + "': use an RFC 5280 name such as "
                                                           "digitalSignature");
      }
      if ((bits & it->second) == 0) {
        return make_error(Errc::bad_purpose, leaf_text(leaf) + ": keyUsage lacks " + wanted);
      }
    }
  }
  return ok_status();
}

}  // namespace tether::pki

#include "x509/key.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>

#include <array>
#include <utility>

#include "x509/openssl_error.h"

namespace tether::x509 {

namespace {
constexpr std::array<std::pair<std::string_view, KeyType>, 5> kKeyTypes = {{
    {"rsa2048", KeyType::rsa2048},
    {"rsa3072", KeyType::rsa3072},
    {"rsa4096", KeyType::rsa4096},
    {"ecdsa-p256", KeyType::ecdsa_p256},
    {"ecdsa-p384", KeyType::ecdsa_p384},
}};
}  // namespace

Result<KeyType> parse_key_type(std::string_view text) {
  for (const auto& [name, type] : kKeyTypes) {
    if (name == text) return type;
  }
  return make_error(Errc::invalid_argument,
                    "unknown key type '" + std::string(text) +
                        "': use one of rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384");
}

std::string_view key_type_name(KeyType type) {
  for (const auto& [name, t] : kKeyTypes) {
    if (t == type) return name;
  }
  return "unknown";
}

Result<KeyType> classify_key(EVP_PKEY* key) {
  int bits = EVP_PKEY_get_bits(key);
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (bits == 2048) return KeyType::rsa2048;
    if (bits == 3072) return KeyType::rsa3072;
    if (bits == 4096) return KeyType::rsa4096;
    return make_error(Errc::unsupported_key,
                      "RSA key of " + std::to_string(bits) +
                          " bits is not accepted: use 2048, 3072 or 4096 bits");
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char curve[64] = {};
    size_t len = 0;
    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len);
    std::string_view name(curve, len);
    if (name == "prime256v1" || name == "P-256") return KeyType::ecdsa_p256;
    if (name == "secp384r1" || name == "P-384") return KeyType::ecdsa_p384;
    return make_error(Errc::unsupported_key, "EC key on curve '" + std::string(name) +
                                                 "' is not accepted: use P-256 or P-384");
  }
  return make_error(Errc::unsupported_key, std::string("key algorithm '") +
                                               EVP_PKEY_get0_type_name(key) +
                                               "' is not accepted: use RSA or ECDSA");
}

Result<PkeyPtr> generate_key(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::rsa2048:
      raw = EVP_RSA_gen(2048);
      break;
    case KeyType::rsa3072:
      raw = EVP_RSA_gen(3072);
      break;
    case KeyType::rsa4096:
      raw = EVP_RSA_gen(4096);
      break;
    case KeyType::ecdsa_p256:
      raw = EVP_EC_gen("P-256");
      break;
    case KeyType::ecdsa_p384:
      raw = EVP_EC_gen("P-384");
      break;
  }
  if (raw == nullptr) {
    return openssl_error(Errc::crypto_error,
                         "cannot generate " + std::string(key_type_name(type)) + " key");
  }
  return PkeyPtr(raw);
}

}  // namespace tether::x509

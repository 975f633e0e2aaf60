// Key types tether issues and key generation.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::x509 {

enum class KeyType { rsa2048, rsa3072, rsa4096, ecdsa_p256, ecdsa_p384 };

// Parses "rsa2048", "ecdsa-p256", ...; the error lists the accepted values.
Result<KeyType> parse_key_type(std::string_view text);
std::string_view key_type_name(KeyType type);
// Describes an existing key as one of our key types, e.g. for a key in a CSR ("rsa2048").
// Keys we would not issue for (RSA < 2048, other curves) yield an error naming them.
Result<KeyType> classify_key(EVP_PKEY* key);

Result<PkeyPtr> generate_key(KeyType type);

}  // namespace tether::x509

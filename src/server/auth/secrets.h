// The random values and digests the API's credentials are made of.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tether::server {

// `bytes` random bytes from OpenSSL's CSPRNG, as unpadded base64url (RFC 4648 5) or lowercase
// hex.
Result<std::string> random_base64url(size_t bytes);
Result<std::string> random_hex(size_t bytes);

// Lowercase hex SHA-256: how the store keeps high-entropy secrets (session ids, token secrets),
// which need no slow hash: nobody can guess 256 random bits.
std::string sha256_hex(std::string_view data);
// Unpadded base64url HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256_base64url(std::string_view key, std::string_view data);

// Whether two secrets (or their digests) are equal, in time that depends only on their lengths.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace tether::server

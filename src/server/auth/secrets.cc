#include "server/auth/secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <span>
#include <vector>

#include "common/hex.h"

namespace tether::server {

namespace {

std::string base64url(std::span<const unsigned char> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{bytes[i]} << 16;
    if (rest == 2) v |= uint32_t{bytes[i + 1]} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::vector<unsigned char>> random_bytes(size_t bytes) {
  std::vector<unsigned char> out(bytes);
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return make_error(Errc::crypto_error, "cannot draw " + std::to_string(bytes) +
                                              " random bytes from OpenSSL's generator");
  }
  return out;
}

}  // namespace

Result<std::string> random_base64url(size_t bytes) {
  TETHER_ASSIGN_OR_RETURN(auto random, random_bytes(bytes));
  return base64url(random);
}

Result<std::string> random_hex(size_t bytes) {
  TETHER_ASSIGN_OR_RETURN(auto random, random_bytes(bytes));
  return hex::encode(random);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // SHA-256 of memory does not fail short of memory exhaustion; an empty digest then matches
  // no stored one.
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  return hex::encode(std::span<const unsigned char>(digest, size));
}

std::string hmac_sha256_base64url(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
           &size) == nullptr) {
    return {};
  }
  return base64url(std::span<const unsigned char>(mac, size));
}

bool secrets_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tether::server

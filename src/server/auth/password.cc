#include "server/auth/password.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <array>

namespace tether::server {

namespace {

constexpr size_t kSaltBytes = 16;  // RFC 9106 3.1: 128 bits is enough for password hashing
constexpr size_t kHashBytes = 32;

Result<std::string> hash_with(const Argon2Params& p, std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return make_error(Errc::invalid_argument,
                      "a password may be at most " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  std::array<unsigned char, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return make_error(Errc::crypto_error, "cannot draw a random salt for a password hash");
  }
  std::string encoded(
      argon2_encodedlen(p.iterations, p.memory_kib, p.lanes, kSaltBytes, kHashBytes, Argon2_id),
      '\0');
  int rc =
      argon2id_hash_encoded(p.iterations, p.memory_kib, p.lanes, password.data(), password.size(),
                            salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return make_error(Errc::crypto_error, std::string("cannot hash a password with Argon2id: ") +
                                              argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

}  // namespace

Result<PasswordHasher> PasswordHasher::create(Argon2Params params) {
  // The stand-in hash is of a random password nobody knows: it also proves `params` work.
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return make_error(Errc::crypto_error, "cannot draw random bytes for the password hasher");
  }
  TETHER_ASSIGN_OR_RETURN(
      std::string dummy,
      hash_with(params,
                std::string_view(reinterpret_cast<const char*>(random.data()), random.size())));
  return PasswordHasher(params, std::move(dummy));
}

Result<std::string> PasswordHasher::hash(std::string_view password) const {
  return hash_with(params_, password);
}

bool PasswordHasher::verify(const std::string& encoded, std::string_view password) const {
  if (password.size() > kMaxPasswordBytes) return false;
  if (encoded.rfind("$argon2id$", 0) != 0) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void PasswordHasher::verify_nothing(std::string_view password) const {
  (void)verify(dummy_, password);
}

}  // namespace tether::server

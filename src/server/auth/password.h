// Password hashing for the API's users: Argon2id (RFC 9106) through libargon2, stored as the
// PHC encoded string, which carries its own parameters and salt. A hash made with older
// parameters keeps verifying after the defaults change.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"

namespace tether::server {

struct Argon2Params {
  uint32_t iterations = 0;  // t
  uint32_t memory_kib = 0;  // m, in KiB
  uint32_t lanes = 0;       // p (libargon2 uses as many threads)

  // RFC 9106 4, the second recommended option: t=3, m=64 MiB, p=4. It is the RFC's choice where
  // 2 GiB per hash (the first option) is not affordable, and a login is rare enough on an admin
  // API that ~64 MiB and tens of milliseconds per attempt cost nothing; 4 lanes keep the wall
  // time down on a multi-core server while an attacker still pays the full memory per guess.
  // (OWASP's lighter settings, 19-46 MiB with t=1..2, trade resistance for throughput an admin
  // login does not need.)
  static constexpr Argon2Params recommended() { return {3, 64 * 1024, 4}; }
  // Far below any safe setting: only for tests, which hash hundreds of passwords. Never a
  // default anywhere.
  static constexpr Argon2Params insecure_for_tests() { return {1, 64, 1}; }
};

// Passwords longer than this are refused before hashing (Argon2 itself takes any length, but
// nobody types more, and a megabyte password would only be a way to make the server work).
inline constexpr size_t kMaxPasswordBytes = 1024;

class PasswordHasher {
 public:
  // Fails only when no random salt can be drawn, or libargon2 refuses `params`.
  static Result<PasswordHasher> create(Argon2Params params = Argon2Params::recommended());

  // "$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>", with a fresh 16-byte random salt.
  Result<std::string> hash(std::string_view password) const;
  // Whether `password` matches `encoded` (libargon2 compares in constant time). An encoded
  // string that is not Argon2id, or does not parse, never matches.
  bool verify(const std::string& encoded, std::string_view password) const;
  // Spends the time of one verification against nothing: for a login naming a user that does
  // not exist, so the answer takes as long as for one that does.
  void verify_nothing(std::string_view password) const;

  const Argon2Params& params() const { return params_; }

 private:
  PasswordHasher(Argon2Params params, std::string dummy)
      : params_(params), dummy_(std::move(dummy)) {}

  Argon2Params params_;
  std::string dummy_;  // a hash of a random password, with params_
};

}  // namespace tether::server

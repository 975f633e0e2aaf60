// Private key parsing (x509::parse_private_key): PKCS#8 plain and encrypted, and the
// traditional forms OpenSSL also reads, with a fixed passphrase so encrypted seeds decrypt.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "x509/build.h"
#include "x509/key.h"

using namespace tether;

namespace {
// The passphrase fuzz/make_seeds.sh encrypts the seed keys with.
constexpr std::string_view kPassphrase = "fuzz-passphrase";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto key = x509::parse_private_key(fuzz::as_view(data, size), kPassphrase, "fuzz key");
  if (key) {
    (void)x509::classify_key(key->get());
    (void)x509::signing_digest(key->get());
    // A key we read we can also write (unencrypted: PBKDF2 would dominate the run) and read back
    // as the same key.
    auto pem = x509::private_key_to_pem(key->get(), "");
    if (pem) {
      auto again = x509::parse_private_key(*pem, "", "re-encoded key");
      fuzz::require(again.ok() && EVP_PKEY_eq(again->get(), key->get()) == 1,
                    "a parsed key round-trips through PKCS#8");
    }
  }
  fuzz::end_input();
  return 0;
}

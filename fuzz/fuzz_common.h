// Helpers shared by the fuzz targets: a byte view of the input, invariant checks, and one routine
// that reads a parsed certificate the way the rest of tether does.
#pragma once

#include <openssl/err.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/time_format.h"
#include "verify/identity.h"
#include "x509/inspect.h"
#include "x509/pem.h"

namespace tether::fuzz {

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A broken invariant is a bug even without a memory error: say which, and abort so that
// libFuzzer keeps the input as a crash artifact.
inline void require(bool holds, const char* invariant) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", invariant);
  std::abort();
}

inline bool is_lower_hex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// serial_hex promises the store's canonical form: lowercase hex, even length, no leading zero
// octet.
inline void require_canonical_serial(std::string_view serial) {
  if (serial.starts_with('-')) serial.remove_prefix(1);  // negative serials do occur in the wild
  require(is_lower_hex(serial), "serial_hex is lowercase hex");
  require(serial.size() % 2 == 0, "serial_hex has an even number of digits");
  require(serial == "00" || !serial.starts_with("00"), "serial_hex has no leading zero octet");
}

// Every read tether makes of a certificate it did not issue (check-chain output, cert verify,
// the gateway's identity mapping), with the invariants those reads promise.
inline void exercise_certificate(X509* cert) {
  (void)x509::subject_string(cert);
  (void)x509::issuer_string(cert);
  (void)x509::common_name(X509_get_subject_name(cert));

  require_canonical_serial(x509::serial_hex(cert));

  std::string fingerprint = x509::fingerprint_sha256(cert);
  require(fingerprint.size() == 64 && is_lower_hex(fingerprint), "fingerprint is 64 hex digits");
  require(hex::openssl_format(fingerprint).size() == 95, "OpenSSL-format fingerprint is 32 octets");

  for (int64_t t : {x509::not_before(cert), x509::not_after(cert)}) {
    auto back = parse_rfc3339(format_rfc3339(t));
    require(back.ok() && *back == t, "format_rfc3339 and parse_rfc3339 round-trip");
  }
  for (const auto& uri : x509::uri_sans(cert)) (void)uri.size();
  (void)x509::is_ca(cert);
  (void)verify::identity_from_certificate(cert, "tether.internal");
  (void)verify::identity_from_certificate(cert, std::nullopt);
  (void)x509::to_pem(cert);
}

// Nothing a target does may leave errors behind for the next input (the whole OpenSSL error queue
// is drained).
inline void end_input() {
  ERR_clear_error();
}

}  // namespace tether::fuzz

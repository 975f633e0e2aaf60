// The one hex form tether prints: lowercase digits, no separators (fingerprints, serials, digests),
// plus the colon-separated upper-case form `openssl x509 -fingerprint` prints, for comparison.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace tether::hex {

// Two lowercase digits per byte.
std::string encode(std::span<const unsigned char> bytes);
// Appends the two lowercase digits of one byte (for encoders that build their own output).
void append_byte(std::string& out, unsigned char byte);
// "aabb01" -> "AA:BB:01", as OpenSSL prints fingerprints and serials.
std::string openssl_format(std::string_view lowercase_hex);
// Big-endian integer digits in tether's canonical form: lowercase, leading zero octets removed,
// and an even number of digits (a leading 0 when the value's hex has odd length), so a serial
// reads the same as the octets `openssl x509 -serial` prints. Zero is "00". A leading '-' is kept.
std::string canonical_integer(std::string_view digits);

}  // namespace tether::hex

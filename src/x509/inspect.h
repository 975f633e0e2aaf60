// Read-only views of certificates: names, serials, fingerprints, validity, extensions.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::x509 {

// RFC 2253 one-line form, e.g. "CN=tether Connector CA,O=tether".
std::string name_to_string(const X509_NAME* name);
// The (last) commonName of a name, or empty.
std::string common_name(const X509_NAME* name);
std::string subject_string(const X509* cert);
// How verification messages name a certificate in a path: "certificate at depth 1 (CN=...)";
// without the subject when `cert` is null.
std::string describe_at_depth(const X509* cert, size_t depth);
std::string issuer_string(const X509* cert);

// Serial as lowercase hex without leading zeros ("0" for zero).
std::string serial_hex(const X509* cert);
std::string serial_hex(const ASN1_INTEGER* serial);
// SHA-256 over the DER certificate, lowercase hex.
std::string fingerprint_sha256(const X509* cert);
// The same, colon separated upper-case, as `openssl x509 -fingerprint -sha256` prints it.
std::string fingerprint_sha256_colons(const X509* cert);

// Seconds since the epoch; nullopt when the time cannot be represented.
std::optional<int64_t> asn1_time_to_unix(const ASN1_TIME* time);
int64_t not_before(const X509* cert);
int64_t not_after(const X509* cert);
// RFC 3339 UTC ("2026-11-25T23:30:04Z").
std::string format_rfc3339(int64_t unix_seconds);
Result<int64_t> parse_rfc3339(std::string_view text);

std::vector<std::string> uri_sans(X509* cert);
std::vector<std::string> dns_sans(X509* cert);
// iPAddress entries in inet_ntop form ("127.0.0.1", "::1"); malformed lengths are skipped.
std::vector<std::string> ip_sans(X509* cert);
std::optional<std::string> ip_address_text(const ASN1_OCTET_STRING* ip);
bool is_ca(X509* cert);

// A random positive serial of 128 bits with the top bit cleared (RFC 5280 4.1.2.2: at most 20
// octets, positive), so at least 127 bits of entropy.
Result<Asn1IntegerPtr> random_serial();

}  // namespace tether::x509

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

// Serial in canonical hex (common/hex.h): lowercase, even length, no leading zero octets.
std::string serial_hex(const X509* cert);
std::string serial_hex(const ASN1_INTEGER* serial);
// SHA-256 over the DER certificate, lowercase hex without separators (hex::openssl_format gives
// the form `openssl x509 -fingerprint -sha256` prints).
std::string fingerprint_sha256(const X509* cert);

// Seconds since the epoch; nullopt when the time cannot be represented.
std::optional<int64_t> asn1_time_to_unix(const ASN1_TIME* time);
int64_t not_before(const X509* cert);
int64_t not_after(const X509* cert);

std::vector<std::string> uri_sans(X509* cert);
// Every subjectAltName as "DNS:x", "IP:x", "URI:x", "email:x" (other kinds by their type).
std::vector<std::string> subject_alt_names(X509* cert);
// extendedKeyUsage purposes by short name ("clientAuth") or dotted OID; empty without the
// extension.
std::vector<std::string> extended_key_usages(X509* cert);
// The subject key: one of tether's key type names ("ecdsa-p256"), else what it is ("RSA 1024
// bits", "EC secp521r1", "ED25519").
std::string key_description(X509* cert);
std::vector<std::string> dns_sans(X509* cert);
// iPAddress entries in inet_ntop form ("127.0.0.1", "::1"); malformed lengths are skipped.
std::vector<std::string> ip_sans(X509* cert);
std::optional<std::string> ip_address_text(const ASN1_OCTET_STRING* ip);
bool is_ca(X509* cert);

// A random positive serial of 128 bits with the top bit cleared (RFC 5280 4.1.2.2: at most 20
// octets, positive), so at least 127 bits of entropy.
Result<Asn1IntegerPtr> random_serial();

}  // namespace tether::x509

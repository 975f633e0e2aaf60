#include "tls/alerts.h"

#include <array>
#include <utility>

namespace tether::tls {

namespace {

// Indexed by HandshakeReason. The alerts are the ones OpenSSL 3 sends for the matching
// X509_V_ERR_* (ssl_x509err2alert), so the table states what the client really received.
constexpr std::array<AlertInfo, 13> kTable = {{
    {"ok", "", -1},
    // RFC 8446 4.4.2.4: a server that requires a certificate aborts with certificate_required
    // (TLS 1.3). TLS 1.2 has no such alert; OpenSSL sends handshake_failure there.
    {"certificate_required", "certificate_required", 116},
    // RFC 8446 4.2.1 / RFC 5246 E.1: no mutually supported version.
    {"protocol_version", "protocol_version", 70},
    {"unknown_issuer", "unknown_ca", 48},
    {"expired", "certificate_expired", 45},
    {"not_yet_valid", "bad_certificate", 42},
    {"revoked", "certificate_revoked", 44},
    // RFC 8446 6.2: unsupported_certificate, "a certificate was of an unsupported type" -
    // OpenSSL's choice for a certificate whose EKU does not allow client authentication.
    {"bad_purpose", "unsupported_certificate", 43},
    {"not_a_ca", "unknown_ca", 48},
    {"path_too_long", "bad_certificate", 42},
    {"bad_signature", "decrypt_error", 51},
    {"bad_certificate", "bad_certificate", 42},
    {"handshake_failure", "handshake_failure", 40},
}};

}  // namespace

const AlertInfo& alert_info(HandshakeReason reason) {
  return kTable[static_cast<size_t>(reason)];
}

HandshakeReason reason_from_errc(Errc code) {
  switch (code) {
    case Errc::ok:
      return HandshakeReason::ok;
    case Errc::unknown_issuer:
      return HandshakeReason::unknown_issuer;
    case Errc::expired:
      return HandshakeReason::expired;
    case Errc::not_yet_valid:
      return HandshakeReason::not_yet_valid;
    case Errc::revoked:
      return HandshakeReason::revoked;
    case Errc::bad_purpose:
      return HandshakeReason::bad_purpose;
    case Errc::not_a_ca:
      return HandshakeReason::not_a_ca;
    case Errc::path_too_long:
    case Errc::chain_too_long:
      return HandshakeReason::path_too_long;
    case Errc::bad_signature:
      return HandshakeReason::bad_signature;
    default:
      return HandshakeReason::bad_certificate;
  }
}

std::string_view alert_name_for_number(int alert_number) {
  static constexpr std::pair<int, std::string_view> kNames[] = {
      {0, "close_notify"},
      {10, "unexpected_message"},
      {20, "bad_record_mac"},
      {22, "record_overflow"},
      {40, "handshake_failure"},
      {42, "bad_certificate"},
      {43, "unsupported_certificate"},
      {44, "certificate_revoked"},
      {45, "certificate_expired"},
      {46, "certificate_unknown"},
      {47, "illegal_parameter"},
      {48, "unknown_ca"},
      {49, "access_denied"},
      {50, "decode_error"},
      {51, "decrypt_error"},
      {70, "protocol_version"},
      {71, "insufficient_security"},
      {80, "internal_error"},
      {86, "inappropriate_fallback"},
      {90, "user_canceled"},
      {109, "missing_extension"},
      {110, "unsupported_extension"},
      {112, "unrecognized_name"},
      {116, "certificate_required"},
      {120, "no_application_protocol"},
  };
  for (const auto& [number, name] : kNames) {
    if (number == alert_number) return name;
  }
  return "unknown";
}

}  // namespace tether::tls

// Handshake outcome reasons and the one table mapping each to the TLS alert the client gets.
//
// Logs and metrics name both: the reason says what was wrong, the alert what the client saw.
// Alert names and numbers are those of RFC 8446 6.2 (RFC 5246 7.2.2 for TLS 1.2).
#pragma once

#include <string_view>

#include "common/error.h"

namespace tether::tls {

enum class HandshakeReason {
  ok,
  certificate_required,  // the client sent no certificate
  protocol_version,      // the client offered only versions below our minimum
  unknown_issuer,        // no path to a trust anchor
  expired,
  not_yet_valid,
  revoked,
  bad_purpose,  // no clientAuth EKU
  not_a_ca,
  path_too_long,
  bad_signature,
  bad_certificate,    // any other certificate defect, including no well-formed tether identity
  handshake_failure,  // a TLS failure that is not about the certificate (no shared cipher, ...)
};

struct AlertInfo {
  std::string_view reason;  // stable token for logs and metric labels, e.g. "unknown_issuer"
  std::string_view alert;   // TLS alert name, e.g. "unknown_ca"; "" for ok
  int alert_number;         // TLS AlertDescription value; -1 for ok
};

const AlertInfo& alert_info(HandshakeReason reason);
inline std::string_view reason_token(HandshakeReason r) {
  return alert_info(r).reason;
}
inline std::string_view alert_name(HandshakeReason r) {
  return alert_info(r).alert;
}

// The reason for a chain-verification failure that verify::reason_for_verify_error reported.
HandshakeReason reason_from_errc(Errc code);

// The alert name for an AlertDescription number as sent on the wire ("unknown" if not listed).
std::string_view alert_name_for_number(int alert_number);

}  // namespace tether::tls

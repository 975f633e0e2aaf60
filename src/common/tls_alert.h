// TLS alerts by name and AlertDescription number (RFC 8446 6.2; RFC 5246 7.2 for TLS 1.2), the
// values the failure table's alert column takes.
#pragma once

#include <optional>
#include <string_view>

namespace tether {

// X(name, number): every alert tether names, in number order.
#define TETHER_TLS_ALERTS(X)              \
  X(close_notify, 0)                      \
  X(unexpected_message, 10)               \
  X(bad_record_mac, 20)                   \
  X(record_overflow, 22)                  \
  X(handshake_failure, 40)                \
  X(bad_certificate, 42)                  \
  X(unsupported_certificate, 43)          \
  X(certificate_revoked, 44)              \
  X(certificate_expired, 45)              \
  X(certificate_unknown, 46)              \
  X(illegal_parameter, 47)                \
  X(unknown_ca, 48)                       \
  X(access_denied, 49)                    \
  X(decode_error, 50)                     \
  X(decrypt_error, 51)                    \
  X(protocol_version, 70)                 \
  X(insufficient_security, 71)            \
  X(internal_error, 80)                   \
  X(inappropriate_fallback, 86)           \
  X(user_canceled, 90)                    \
  X(missing_extension, 109)               \
  X(unsupported_extension, 110)           \
  X(unrecognized_name, 112)               \
  X(bad_certificate_status_response, 113) \
  X(unknown_psk_identity, 115)            \
  X(certificate_required, 116)            \
  X(no_application_protocol, 120)

// The enumerator's value is the AlertDescription sent on the wire.
enum class TlsAlert {
#define TETHER_TLS_ALERT_ENUMERATOR_(name, number) name = number,
  TETHER_TLS_ALERTS(TETHER_TLS_ALERT_ENUMERATOR_)
#undef TETHER_TLS_ALERT_ENUMERATOR_
};

constexpr std::string_view tls_alert_name(TlsAlert alert) {
  switch (alert) {
#define TETHER_TLS_ALERT_NAME_(name, number) \
  case TlsAlert::name:                       \
    return #name;
    TETHER_TLS_ALERTS(TETHER_TLS_ALERT_NAME_)
#undef TETHER_TLS_ALERT_NAME_
  }
  return "unknown";
}

constexpr int tls_alert_number(TlsAlert alert) {
  return static_cast<int>(alert);
}

// The alert an AlertDescription number names; nullopt for a number not listed above.
constexpr std::optional<TlsAlert> tls_alert_from_number(int value) {
  switch (value) {
#define TETHER_TLS_ALERT_FROM_NUMBER_(name, number) \
  case number:                                      \
    return TlsAlert::name;
    TETHER_TLS_ALERTS(TETHER_TLS_ALERT_FROM_NUMBER_)
#undef TETHER_TLS_ALERT_FROM_NUMBER_
  }
  return std::nullopt;
}

// The name of an alert as received or sent on the wire: "unknown" for a number not listed.
constexpr std::string_view tls_alert_name_for_number(int value) {
  auto alert = tls_alert_from_number(value);
  return alert ? tls_alert_name(*alert) : "unknown";
}

}  // namespace tether

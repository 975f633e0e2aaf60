// The failure table's rules that its columns' types cannot state, checked row by row while
// tether_common compiles: a row that breaks one does not build, and the message names it.
#include "common/handshake_reason.h"

namespace tether::failure_table {

namespace {

// A code refused in a handshake sends the alert of its reason; one with no reason sends none.
constexpr bool alert_follows_reason(std::optional<HandshakeReason> reason,
                                    std::optional<TlsAlert> alert) {
  if (!reason) return !alert;
  return alert == tls_alert(*reason);
}

// Only ok is a success, answered 2xx; every failure is answered 4xx or 5xx.
constexpr bool status_fits(Errc code, int status) {
  return code == Errc::ok ? status < 300 : status >= 400;
}

}  // namespace

#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)              \
  static_assert(alert_follows_reason(reason_##handshake_reason, alert_##tls_alert), \
                "failures.def: " #code                                              \
                ": tls_alert must be the alert of its handshake_reason "            \
                "(none when handshake_reason is none)");                            \
  static_assert(status_fits(Errc::code, checked_http_status(http_status)),          \
                "failures.def: " #code ": ok is answered 2xx, every failure 4xx or 5xx");
#define TETHER_HANDSHAKE_REASON(code, http_status, handshake_reason, tls_alert)             \
  TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)                            \
  static_assert(reason_##handshake_reason == HandshakeReason::code,                         \
                "failures.def: " #code ": a handshake reason is its own handshake_reason"); \
  static_assert((Errc::code == Errc::ok) == !alert_##tls_alert,                             \
                "failures.def: " #code ": a refused handshake sends an alert, an accepted none");
#define TETHER_REQUEST_FAILURE(code, http_status, handshake_reason, tls_alert)                \
  TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)                              \
  static_assert(!reason_##handshake_reason, "failures.def: " #code                            \
                                            ": a request failure comes after the handshake, " \
                                            "so its handshake_reason is none");
#define TETHER_CONNECTION_REFUSAL(code, http_status, handshake_reason, tls_alert)       \
  TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)                        \
  static_assert(!reason_##handshake_reason, "failures.def: " #code                      \
                                            ": a connection refused before TLS has no " \
                                            "handshake_reason");
#include "common/failures.def"

}  // namespace tether::failure_table

// Handshake reasons: why a TLS handshake was accepted or refused, and the TLS alert each sends.
// Logs and metrics name both: the reason says what was wrong, the alert what the client saw.
//
// Generated from the failure table (common/failures.def), like Errc: each reason is the code of
// the same name, a row of the TETHER_HANDSHAKE_REASON group. They live in common, below tls and
// obs, because both name them (tls decides them, obs counts and logs them) and neither may need
// the other for the names.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "common/error.h"
#include "common/tls_alert.h"

namespace tether {

enum class HandshakeReason {
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)
#define TETHER_HANDSHAKE_REASON(code, http_status, handshake_reason, tls_alert) code,
#include "common/failures.def"
};

// Every reason, in table order: the label set of tether_handshakes_total.
inline constexpr auto kHandshakeReasons = std::to_array<HandshakeReason>({
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)
#define TETHER_HANDSHAKE_REASON(code, http_status, handshake_reason, tls_alert) \
  HandshakeReason::code,
#include "common/failures.def"
});

// The values the handshake_reason and tls_alert columns may take: `none` or a name, written
// without prefix in the table. An empty or unknown name is an undeclared identifier here.
namespace failure_table {
inline constexpr std::optional<HandshakeReason> reason_none = std::nullopt;
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)
#define TETHER_HANDSHAKE_REASON(code, http_status, handshake_reason, tls_alert) \
  inline constexpr std::optional<HandshakeReason> reason_##code = HandshakeReason::code;
#include "common/failures.def"

inline constexpr std::optional<TlsAlert> alert_none = std::nullopt;
#define TETHER_FAILURE_ALERT_(name, number) \
  inline constexpr std::optional<TlsAlert> alert_##name = TlsAlert::name;
TETHER_TLS_ALERTS(TETHER_FAILURE_ALERT_)
#undef TETHER_FAILURE_ALERT_
}  // namespace failure_table

// The code a reason is (same name, same token).
constexpr Errc errc_of(HandshakeReason reason) {
  switch (reason) {
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)
#define TETHER_HANDSHAKE_REASON(code, http_status, handshake_reason, tls_alert) \
  case HandshakeReason::code:                                                   \
    return Errc::code;
#include "common/failures.def"
  }
  return Errc::handshake_failure;
}

// Stable token for logs and metric labels, e.g. "unknown_issuer".
constexpr std::string_view reason_token(HandshakeReason reason) {
  return errc_reason(errc_of(reason));
}

// The reason a handshake refused for `code` is counted under; nullopt for a code that is never a
// handshake's outcome.
constexpr std::optional<HandshakeReason> handshake_reason(Errc code) {
  switch (code) {
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert) \
  case Errc::code:                                                     \
    return failure_table::reason_##handshake_reason;
#include "common/failures.def"
  }
  return std::nullopt;
}

// The alert a client gets when a handshake is refused for `code`; nullopt when none is sent for
// it (ok, or a code that is never a handshake's outcome).
constexpr std::optional<TlsAlert> tls_alert(Errc code) {
  switch (code) {
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert) \
  case Errc::code:                                                     \
    return failure_table::alert_##tls_alert;
#include "common/failures.def"
  }
  return std::nullopt;
}

// The alert a handshake refused for `reason` sends; nullopt for ok.
constexpr std::optional<TlsAlert> tls_alert(HandshakeReason reason) {
  return tls_alert(errc_of(reason));
}

// The alert's name, "" for ok: what logs and metric labels show.
constexpr std::string_view alert_name(HandshakeReason reason) {
  auto alert = tls_alert(reason);
  return alert ? tls_alert_name(*alert) : std::string_view();
}

}  // namespace tether

// One error type for tether: a code from one enum, plus a message naming the offending value.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace tether {

// Every failure tether reports, one per row of the failure table (common/failures.def), in its
// order. Each has a stable token (errc_reason) that appears in CLI output, logs, JSON bodies and
// metric labels, and an HTTP status (http_status); common/handshake_reason.h maps it to the
// handshake reason and TLS alert.
enum class Errc {
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert) code,
#include "common/failures.def"
};

// The number of codes; Errc's values are 0 .. kErrcCount - 1.
inline constexpr size_t kErrcCount = 0
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert) +1
#include "common/failures.def"
    ;

namespace failure_table {
void http_status_must_be_within_100_and_599();  // never defined: named in the compiler's error
// The http_status column, checked while compiling: a status outside 100..599 does not build.
consteval int checked_http_status(int status) {
  if (status < 100 || status > 599) http_status_must_be_within_100_and_599();
  return status;
}
}  // namespace failure_table

// Stable token for a code, e.g. "not_yet_valid": the code's name in the table.
constexpr std::string_view errc_reason(Errc code) {
  switch (code) {
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert) \
  case Errc::code:                                                     \
    return #code;
#include "common/failures.def"
  }
  return "unknown";  // only for a value cast from outside the enum (error_code::message)
}

// The code whose token is `token`; nullopt for a token that names no code.
constexpr std::optional<Errc> errc_from_reason(std::string_view token) {
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert) \
  if (token == #code) return Errc::code;
#include "common/failures.def"
  return std::nullopt;
}

// The HTTP status a client gets when this failure is answered over HTTP.
constexpr int http_status(Errc code) {
  switch (code) {
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert) \
  case Errc::code:                                                     \
    return failure_table::checked_http_status(http_status);
#include "common/failures.def"
  }
  return 500;
}

// The failures the gateway answers (or closes) a request for itself, in table order: the label
// set of tether_request_errors_total.
inline constexpr auto kRequestFailures = std::to_array<Errc>({
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)
#define TETHER_REQUEST_FAILURE(code, http_status, handshake_reason, tls_alert) Errc::code,
#include "common/failures.def"
});

// The reasons the gateway closes a connection before TLS, in table order: the label set of
// tether_connections_refused_total.
inline constexpr auto kConnectionRefusals = std::to_array<Errc>({
#define TETHER_FAILURE(code, http_status, handshake_reason, tls_alert)
#define TETHER_CONNECTION_REFUSAL(code, http_status, handshake_reason, tls_alert) Errc::code,
#include "common/failures.def"
});

const std::error_category& tether_category();
std::error_code make_error_code(Errc code);

struct Error {
  Errc code = Errc::ok;
  std::string message;
  // The input field that was wrong, when there is one ("tenant", "csr", "body.reason"): the API
  // names it in its problem details so a client can point at it.
  std::string field = {};

  std::string_view reason() const { return errc_reason(code); }
};

// Result<T>: a value or an Error. tether builds with C++20, where std::expected is not available
// to every compiler we use (clang 14 for the fuzzers), so this is the small subset we need.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation that produces no value.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() {
  return Unit{};
}

inline Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message)};
}
inline Error make_field_error(Errc code, std::string field, std::string message) {
  return Error{code, std::move(message), std::move(field)};
}

}  // namespace tether

template <>
struct std::is_error_code_enum<tether::Errc> : std::true_type {};

// Propagates an error from an expression returning Result<T> / Status.
#define TETHER_TRY(expr)                                                        \
  do {                                                                          \
    auto tether_try_result_ = (expr);                                           \
    if (!tether_try_result_.ok()) return std::move(tether_try_result_).error(); \
  } while (0)

#define TETHER_CONCAT_INNER_(a, b) a##b
#define TETHER_CONCAT_(a, b) TETHER_CONCAT_INNER_(a, b)
#define TETHER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).error();       \
  lhs = std::move(tmp).value()
// lhs = value of expr, or return its error.
#define TETHER_ASSIGN_OR_RETURN(lhs, expr) \
  TETHER_ASSIGN_OR_RETURN_IMPL_(TETHER_CONCAT_(tether_assign_, __LINE__), lhs, expr)

// One error type for tether: a code from one enum, plus a message naming the offending value.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace tether {

// Every failure tether reports. Each has a stable reason token (see errc_reason) that appears in
// CLI output, logs and metric labels.
enum class Errc {
  ok = 0,
  invalid_argument,
  invalid_id,
  parse_error,
  not_found,
  already_exists,
  io_error,
  crypto_error,
  wrong_passphrase,
  passphrase_required,
  unsupported_key,
  serial_collision,
  bad_csr_signature,
  csr_identity_mismatch,
  store_error,
  store_busy,
  store_schema_too_new,
  store_unsupported,  // the store URI names an adapter this build does not include
  ca_exists,
  ca_missing,
  // Verification outcomes (tether cert verify / check-chain).
  expired,
  not_yet_valid,
  unknown_issuer,
  revoked,
  bad_purpose,
  not_a_ca,
  path_too_long,
  name_mismatch,
  bad_signature,
  crl_missing,
  crl_invalid,
  chain_too_long,
  bad_certificate,
  bad_extension,
  bad_serial,
  bad_name,
  name_constraint_violation,
  issuer_mismatch,
  not_pem,
  private_key_present,
  unexpected_pem_block,
  verify_failed,
};

// Stable token for a code, e.g. "not_yet_valid".
std::string_view errc_reason(Errc code);

const std::error_category& tether_category();
std::error_code make_error_code(Errc code);

struct Error {
  Errc code = Errc::ok;
  std::string message;

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

#include "common/error.h"

namespace tether {

std::string_view errc_reason(Errc code) {
  switch (code) {
    case Errc::ok:
      return "ok";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::invalid_id:
      return "invalid_id";
    case Errc::parse_error:
      return "parse_error";
    case Errc::not_found:
      return "not_found";
    case Errc::already_exists:
      return "already_exists";
    case Errc::io_error:
      return "io_error";
    case Errc::crypto_error:
      return "crypto_error";
    case Errc::wrong_passphrase:
      return "wrong_passphrase";
    case Errc::passphrase_required:
      return "passphrase_required";
    case Errc::unsupported_key:
      return "unsupported_key";
    case Errc::serial_collision:
      return "serial_collision";
    case Errc::bad_csr_signature:
      return "bad_csr_signature";
    case Errc::csr_identity_mismatch:
      return "csr_identity_mismatch";
    case Errc::store_error:
      return "store_error";
    case Errc::store_busy:
      return "store_busy";
    case Errc::store_schema_too_new:
      return "store_schema_too_new";
    case Errc::store_unsupported:
      return "store_unsupported";
    case Errc::ca_exists:
      return "ca_exists";
    case Errc::ca_missing:
      return "ca_missing";
    case Errc::expired:
      return "expired";
    case Errc::not_yet_valid:
      return "not_yet_valid";
    case Errc::unknown_issuer:
      return "unknown_issuer";
    case Errc::revoked:
      return "revoked";
    case Errc::bad_purpose:
      return "bad_purpose";
    case Errc::not_a_ca:
      return "not_a_ca";
    case Errc::path_too_long:
      return "path_too_long";
    case Errc::name_mismatch:
      return "name_mismatch";
    case Errc::bad_signature:
      return "bad_signature";
    case Errc::crl_missing:
      return "crl_missing";
    case Errc::crl_invalid:
      return "crl_invalid";
    case Errc::chain_too_long:
      return "chain_too_long";
    case Errc::bad_certificate:
      return "bad_certificate";
    case Errc::bad_extension:
      return "bad_extension";
    case Errc::bad_serial:
      return "bad_serial";
    case Errc::bad_name:
      return "bad_name";
    case Errc::name_constraint_violation:
      return "name_constraint_violation";
    case Errc::issuer_mismatch:
      return "issuer_mismatch";
    case Errc::not_pem:
      return "not_pem";
    case Errc::private_key_present:
      return "private_key_present";
    case Errc::unexpected_pem_block:
      return "unexpected_pem_block";
    case Errc::verify_failed:
      return "verify_failed";
  }
  return "unknown";
}

namespace {
class TetherCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "tether"; }
  std::string message(int code) const override {
    return std::string(errc_reason(static_cast<Errc>(code)));
  }
};
}  // namespace

const std::error_category& tether_category() {
  static const TetherCategory category;
  return category;
}

std::error_code make_error_code(Errc code) {
  return {static_cast<int>(code), tether_category()};
}

}  // namespace tether

#include "cli/exit_code.h"

namespace tether::cli {

int exit_code_for(Errc code) {
  switch (code) {
    case Errc::ok:
      return kExitSuccess;
    // What the user typed or pointed at is wrong before anything is tried.
    case Errc::invalid_argument:
    case Errc::invalid_id:
    case Errc::parse_error:
    case Errc::not_pem:
    case Errc::unexpected_pem_block:
    case Errc::private_key_present:
    case Errc::passphrase_required:
    case Errc::bad_csr_signature:
    case Errc::csr_identity_mismatch:
    case Errc::store_unsupported:
      return kExitUsage;
    // The operation ran and failed, or its subject was judged and rejected.
    case Errc::not_found:
    case Errc::already_exists:
    case Errc::io_error:
    case Errc::crypto_error:
    case Errc::wrong_passphrase:
    case Errc::serial_collision:
    // A key tether does not accept (DSA, RSA-1024, P-521), in a CSR or a chain: well formed, and
    // refused on its merits.
    case Errc::unsupported_key:
    case Errc::store_error:
    case Errc::store_busy:
    case Errc::store_schema_too_new:
    case Errc::ca_exists:
    case Errc::ca_missing:
    case Errc::expired:
    case Errc::not_yet_valid:
    case Errc::unknown_issuer:
    case Errc::revoked:
    case Errc::bad_purpose:
    case Errc::not_a_ca:
    case Errc::path_too_long:
    case Errc::name_mismatch:
    case Errc::bad_signature:
    case Errc::crl_missing:
    case Errc::crl_invalid:
    case Errc::chain_too_long:
    case Errc::bad_certificate:
    case Errc::bad_extension:
    case Errc::bad_serial:
    case Errc::bad_name:
    case Errc::name_constraint_violation:
    case Errc::issuer_mismatch:
    case Errc::verify_failed:
      return kExitFailure;
    // Outcomes of handshakes, requests and connections at the gateway: never a command's own
    // error, but a command that reports one has failed.
    case Errc::certificate_required:
    case Errc::protocol_version:
    case Errc::handshake_failure:
    case Errc::bad_request:
    case Errc::forbidden:
    case Errc::no_route:
    case Errc::request_timeout:
    case Errc::body_too_large:
    case Errc::misdirected_request:
    case Errc::headers_too_large:
    case Errc::not_implemented:
    case Errc::bad_gateway:
    case Errc::upstream_timeout:
    case Errc::max_connections:
    case Errc::max_connections_per_source:
    case Errc::proxy_protocol_untrusted:
    case Errc::proxy_protocol_invalid:
    case Errc::handshake_timeout:
    case Errc::method_not_allowed:
    case Errc::not_ready:
      return kExitFailure;
    // Answers of a tether server to a command run with --server: the credential or the request
    // was refused.
    case Errc::unauthenticated:
    case Errc::csrf_token_missing:
    case Errc::password_change_required:
    case Errc::too_many_attempts:
    case Errc::unsupported_media_type:
    case Errc::not_acceptable:
      return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace tether::cli

#include "verify/verify.h"

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <ctime>

#include "verify/path_search.h"
#include "verify/strict_checks.h"
#include "x509/inspect.h"
#include "x509/openssl_error.h"

namespace tether::verify {

namespace {

// Path search stops trying alternatives after this long; a case built to exhaust path builders
// then fails with the first path's reason.
constexpr auto kVerifyTimeBudget = std::chrono::milliseconds(500);

}  // namespace

Errc reason_for_verify_error(int err) {
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return Errc::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Errc::not_yet_valid;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return Errc::unknown_issuer;
    case X509_V_ERR_CERT_REVOKED:
      return Errc::revoked;
    case X509_V_ERR_INVALID_PURPOSE:
      return Errc::bad_purpose;
    case X509_V_ERR_INVALID_CA:
      return Errc::not_a_ca;
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return Errc::path_too_long;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
      return Errc::chain_too_long;
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
      return Errc::name_constraint_violation;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
      return Errc::name_mismatch;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return Errc::bad_signature;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
      return Errc::crl_missing;
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
      return Errc::crl_invalid;
    default:
      return Errc::bad_certificate;
  }
}

namespace {

// What the verify callback needs to know about the call it serves.
struct CallbackState {
  Purpose purpose = Purpose::any;
  int64_t at = 0;
};

int callback_state_index() {
  static const int index = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The leaf's extendedKeyUsage allows the purpose (RFC 5280 4.2.1.12: no extension allows any).
bool leaf_eku_allows(X509* leaf, Purpose purpose) {
  if ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) == 0) return true;
  uint32_t xku = X509_get_extended_key_usage(leaf);
  switch (purpose) {
    case Purpose::server:
      return (xku & (XKU_SSL_SERVER | XKU_SGC)) != 0;
    case Purpose::client:
      return (xku & XKU_SSL_CLIENT) != 0;
    case Purpose::any:
      return true;
  }
  return false;
}

// OpenSSL refused the leaf for the purpose, and its keyUsage (not its extendedKeyUsage) is why:
// the keyUsage lacks every bit OpenSSL's TLS purpose wants (RFC 5280 4.2.1.12 leaves the
// combination to the application).
bool refused_for_key_usage_only(X509* leaf, Purpose purpose) {
  uint32_t ku = X509_get_key_usage(leaf);  // UINT32_MAX without the extension
  uint32_t tls_bits = purpose == Purpose::server
                          ? (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)
                          : (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
  return (ku & tls_bits) == 0 && leaf_eku_allows(leaf, purpose);
}

// Three places where OpenSSL 3.0 refuses what RFC 5280 accepts. Each is excused only in the
// exact situation described; every other error stands.
int excuse_openssl_quirks(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return ok;
  const auto* state =
      static_cast<const CallbackState*>(X509_STORE_CTX_get_ex_data(ctx, callback_state_index()));
  if (state == nullptr) return ok;
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  int depth = X509_STORE_CTX_get_error_depth(ctx);
  switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_ERR_CERT_HAS_EXPIRED: {
      // RFC 5280 4.1.2.5: the validity period includes notAfter itself; OpenSSL counts the
      // notAfter second as expired.
      auto not_after = cert ? x509::asn1_time_to_unix(X509_get0_notAfter(cert)) : std::nullopt;
      return not_after && *not_after == state->at ? 1 : ok;
    }
    case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
      // A trust anchor is a name and a key (RFC 5280 6.1.1 (d)); X509_STRICT's keyUsage rule is
      // for the CAs below it. Certificates at or above num_untrusted came from the trust set.
      return depth >= X509_STORE_CTX_get_num_untrusted(ctx) ? 1 : ok;
    case X509_V_ERR_INVALID_PURPOSE:
      // For the leaf, OpenSSL's TLS purposes also demand TLS keyUsage bits. Path validation
      // checks the extendedKeyUsage; the key usage a caller needs is asked for explicitly
      // (VerifyOptions::key_usages), and the TLS handshake itself proves the key signs.
      return depth == 0 && cert != nullptr && refused_for_key_usage_only(cert, state->purpose) ? 1
                                                                                               : ok;
    default:
      return ok;
  }
}

// One X509_verify_cert over the given untrusted certificates.
Result<VerifiedChain> verify_once(X509* leaf, X509_STORE* store,
                                  const std::vector<X509*>& untrusted, const VerifyOptions& options,
                                  const CallbackState& state) {
  x509::X509BorrowedStackPtr stack(sk_X509_new_null());
  for (X509* cert : untrusted) sk_X509_push(stack.get(), cert);
  x509::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store, leaf, stack.get()) != 1) {
    return x509::openssl_error(Errc::crypto_error, "cannot set up verification");
  }
  X509_STORE_CTX_set_ex_data(ctx.get(), callback_state_index(), const_cast<CallbackState*>(&state));
  X509_STORE_CTX_set_verify_cb(ctx.get(), excuse_openssl_quirks);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // X509_STRICT: reject what RFC 5280 forbids even where OpenSSL would tolerate it by default
  // (e.g. CA certificates without keyUsage, malformed AKI/SKI). A security product leans strict.
  // PARTIAL_CHAIN: a certificate in the trust set is an anchor whether or not it is self-signed.
  unsigned long flags = X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN;
  if (!options.crls.empty()) {
    flags |= X509_V_FLAG_CRL_CHECK;
    if (options.crl_check_all) flags |= X509_V_FLAG_CRL_CHECK_ALL;
  }
  X509_VERIFY_PARAM_set_flags(param, flags);
  // Security level 2: at least 112-bit keys (RSA and DSA >= 2048 bits, ECC >= 224 bits) and no
  // SHA-1 or MD5 signatures anywhere in the chain.
  X509_VERIFY_PARAM_set_auth_level(param, 2);
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(state.at));
  // Host names never match the subject CN, and name constraints then apply to the
  // subjectAltName only, whatever kind of name is expected.
  X509_VERIFY_PARAM_set_hostflags(param, kHostFlags);
  switch (options.purpose) {
    case Purpose::client:
      X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
      break;
    case Purpose::server:
      X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
      break;
    case Purpose::any:
      break;
  }
  if (!options.names.empty()) TETHER_TRY(set_expected_name(param, options.names.front()));

  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* at_fault = X509_STORE_CTX_get_current_cert(ctx.get());
    x509::drain_openssl_errors();
    std::string sentence = x509::describe_at_depth(at_fault, static_cast<size_t>(depth)) + ": " +
                           X509_verify_cert_error_string(err);
    if (err == X509_V_OK) sentence = "verification failed without an error code";
    return make_error(err == X509_V_OK ? Errc::verify_failed : reason_for_verify_error(err),
                      sentence);
  }
  std::vector<X509*> chain = x509::stack_certificates(X509_STORE_CTX_get0_chain(ctx.get()));
  TETHER_TRY(check_more_names(leaf, options.names));
  TETHER_TRY(check_chain(chain, options));
  VerifiedChain result;
  for (X509* cert : chain) result.chain.push_back(x509::up_ref(cert));
  return result;
}

}  // namespace

Result<VerifiedChain> verify_chain(X509* leaf, const VerifyOptions& options) {
  if (options.trusted.empty()) {
    return make_error(Errc::invalid_argument, "no trust anchors given: pass --trust ROOTS.pem");
  }
  auto deadline = std::chrono::steady_clock::now() + kVerifyTimeBudget;
  x509::X509StorePtr store(X509_STORE_new());
  for (const auto& cert : options.trusted) {
    if (X509_STORE_add_cert(store.get(), cert.get()) != 1) x509::drain_openssl_errors();
  }
  for (const auto& crl : options.crls) {
    if (X509_STORE_add_crl(store.get(), crl.get()) != 1) x509::drain_openssl_errors();
  }
  CallbackState state{options.purpose,
                      options.at ? *options.at : static_cast<int64_t>(time(nullptr))};

  // First the path OpenSSL builds from everything offered; its refusal is the one reported.
  std::vector<X509*> all;
  for (const auto& cert : options.untrusted) all.push_back(cert.get());
  auto first = verify_once(leaf, store.get(), all, options, state);
  if (first || first.error().code == Errc::invalid_argument) return first;

  // Then each other candidate path, offered alone so that OpenSSL cannot pick the bad issuer.
  PathSearchLimits limits;
  limits.deadline = deadline;
  auto candidates = candidate_paths(leaf, options.trusted, options.untrusted, limits);
  for (const auto& path : candidates.paths) {
    if (path == all || std::chrono::steady_clock::now() > deadline) continue;
    auto again = verify_once(leaf, store.get(), path, options, state);
    if (again) return again;
  }
  return first;
}

}  // namespace tether::verify

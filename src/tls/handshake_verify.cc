#include "tls/handshake_verify.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <new>
#include <optional>

#include "verify/strict_checks.h"
#include "verify/verify.h"
#include "x509/inspect.h"
#include "x509/openssl_error.h"

namespace tether::tls {

namespace {

// The outcome lives on the SSL and the policy on the SSL_CTX: exactly as long as their owner.
using OutcomeSlot = x509::SslExData<HandshakeOutcome>;
using PolicySlot = x509::SslCtxExData<VerifyPolicy>;

// Null only when OpenSSL cannot grow the SSL's ex_data (out of memory): the callbacks then
// refuse, as they must not throw through OpenSSL's frames.
HandshakeOutcome* mutable_outcome(SSL* ssl) {
  if (HandshakeOutcome* outcome = OutcomeSlot::get(ssl)) return outcome;
  return OutcomeSlot::set(ssl, HandshakeOutcome{});
}

// The reason a chain or leaf check's failure is counted under: the failure table's. A check that
// failed for a code the table gives no handshake reason (an argument or crypto error inside it)
// still refused the certificate, and says so.
HandshakeReason refusal_reason(Errc code) {
  return handshake_reason(code).value_or(HandshakeReason::bad_certificate);
}

void reject(HandshakeOutcome& out, HandshakeReason reason, std::string detail) {
  out.reason = reason;
  out.decided = true;
  out.detail = std::move(detail);
  out.identity.reset();
}

// Identity and revocation checks on a leaf whose chain OpenSSL accepted. Returns X509_V_OK or
// the X509_V_ERR_* whose alert the client should get.
int check_leaf(X509* leaf, const VerifyPolicy& policy, HandshakeOutcome& out) {
  out.serial_hex = x509::serial_hex(leaf);
  out.fingerprint_sha256 = x509::fingerprint_sha256(leaf);
  auto identity = verify::identity_from_certificate(leaf, policy.trust_domain);
  if (!identity.ok()) {
    reject(out, HandshakeReason::bad_certificate, identity.error().message);
    // X509_V_ERR_APPLICATION_VERIFICATION would become handshake_failure in OpenSSL 3's
    // ssl_x509err2alert; CERT_REJECTED becomes bad_certificate, the alert RFC 8446 6.2 names
    // for a certificate that is corrupt or otherwise unacceptable.
    return X509_V_ERR_CERT_REJECTED;
  }
  if (policy.revocation && policy.revocation->is_revoked(out.serial_hex)) {
    reject(out, HandshakeReason::revoked,
           "certificate " + out.serial_hex + " (" + identity->common_name() + ") is revoked");
    return X509_V_ERR_CERT_REVOKED;  // alert certificate_revoked
  }
  out.reason = HandshakeReason::ok;
  out.decided = true;
  out.detail.clear();
  out.identity = std::move(identity).value();
  return X509_V_OK;
}

// tether's checks on top of OpenSSL's, the same ones `tether cert verify` makes
// (verify/strict_checks.h), on the path OpenSSL accepted. Returns X509_V_OK or the X509_V_ERR_*
// whose alert the client should get.
int check_path(X509_STORE_CTX* store_ctx, HandshakeOutcome& out) {
  std::vector<X509*> chain = x509::stack_certificates(X509_STORE_CTX_get0_chain(store_ctx));
  verify::VerifyOptions client;
  client.purpose = verify::Purpose::client;
  auto checked = verify::check_chain(chain, client);
  if (checked) return X509_V_OK;
  if (!chain.empty()) out.serial_hex = x509::serial_hex(chain.front());
  reject(out, refusal_reason(checked.error().code), checked.error().message);
  // bad_purpose gets unsupported_certificate, as OpenSSL's own EKU refusal does; the rest
  // bad_certificate (see check_leaf).
  return checked.error().code == Errc::bad_purpose ? X509_V_ERR_INVALID_PURPOSE
                                                   : X509_V_ERR_CERT_REJECTED;
}

// Replaces OpenSSL's default X509_verify_cert call (SSL_CTX_set_cert_verify_callback), so the
// tether checks run in the same step and their failure aborts the handshake with an alert.
int verify_certificate(X509_STORE_CTX* store_ctx, void* arg) {
  const auto& policy = *static_cast<const VerifyPolicy*>(arg);
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  HandshakeOutcome* outcome = mutable_outcome(ssl);
  if (outcome == nullptr) return 0;
  HandshakeOutcome& out = *outcome;
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);

  // The configured intermediates join what the client sent, so a leaf sent alone still finds
  // its issuer; the client's own come first. The stack borrows every certificate (no references
  // taken) and lives until verification ends below.
  x509::X509BorrowedStackPtr untrusted;
  if (!policy.intermediates.empty()) {
    STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store_ctx);
    untrusted.reset(sk_X509_new_reserve(
        nullptr, sk_X509_num(sent) + static_cast<int>(policy.intermediates.size())));
    if (untrusted) {
      for (int i = 0; i < sk_X509_num(sent); ++i)
        sk_X509_push(untrusted.get(), sk_X509_value(sent, i));
      for (const auto& cert : policy.intermediates) sk_X509_push(untrusted.get(), cert.get());
      X509_STORE_CTX_set0_untrusted(store_ctx, untrusted.get());
    }
  }

  if (X509_verify_cert(store_ctx) != 1) {
    int err = X509_STORE_CTX_get_error(store_ctx);
    int depth = X509_STORE_CTX_get_error_depth(store_ctx);
    X509* at_fault = X509_STORE_CTX_get_current_cert(store_ctx);
    if (leaf != nullptr) out.serial_hex = x509::serial_hex(leaf);
    reject(out, refusal_reason(verify::reason_for_verify_error(err)),
           x509::describe_at_depth(at_fault, static_cast<size_t>(depth)) + ": " +
               X509_verify_cert_error_string(err));
    return 0;
  }
  int err = check_path(store_ctx, out);
  if (err == X509_V_OK) err = check_leaf(leaf, policy, out);
  if (err == X509_V_OK) return 1;
  X509_STORE_CTX_set_error_depth(store_ctx, 0);
  X509_STORE_CTX_set_current_cert(store_ctx, leaf);
  X509_STORE_CTX_set_error(store_ctx, err);
  return 0;
}

// Records the first fatal alert we send, so logs can show what the client really received.
void record_alert(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_WRITE_ALERT) != SSL_CB_WRITE_ALERT) return;
  if ((ret >> 8) != SSL3_AL_FATAL) return;
  HandshakeOutcome* out = mutable_outcome(const_cast<SSL*>(ssl));
  if (out != nullptr && out->alert_sent < 0) out->alert_sent = ret & 0xff;
}

// The reason for one packed OpenSSL error, if it is an SSL-library one.
std::optional<HandshakeReason> classify_ssl_error(unsigned long e) {
  if (ERR_GET_LIB(e) != ERR_LIB_SSL) return std::nullopt;
  switch (ERR_GET_REASON(e)) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_WRONG_VERSION_NUMBER:
      return HandshakeReason::protocol_version;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return HandshakeReason::certificate_required;
    default:
      return HandshakeReason::handshake_failure;
  }
}

// A failure that came before (or instead of) certificate verification: from `first_error`
// (Asio takes it off the queue) or else from the error queue.
HandshakeReason classify_ssl_errors(unsigned long first_error) {
  if (first_error != 0) {
    if (auto reason = classify_ssl_error(first_error)) return *reason;
  }
  for (unsigned long e = 0; (e = ERR_peek_error()) != 0;) {
    if (auto reason = classify_ssl_error(e)) return *reason;
    ERR_get_error();
  }
  return HandshakeReason::handshake_failure;
}

}  // namespace

void install_verify_hook(SSL_CTX* ctx, VerifyPolicy policy) {
  VerifyPolicy* owned = PolicySlot::set(ctx, std::move(policy));
  if (owned == nullptr) throw std::bad_alloc();  // OpenSSL could not grow the ex_data array
  SSL_CTX_set_cert_verify_callback(ctx, &verify_certificate, owned);
  SSL_CTX_set_info_callback(ctx, &record_alert);
}

const HandshakeOutcome* handshake_outcome(const SSL* ssl) {
  return OutcomeSlot::get(ssl);
}

const HandshakeOutcome& conclude_handshake(SSL* ssl, int rc, unsigned long first_error) {
  HandshakeOutcome* outcome = mutable_outcome(ssl);
  if (outcome == nullptr) throw std::bad_alloc();
  HandshakeOutcome& out = *outcome;
  if (rc == 1 && !out.decided) {
    // Resumed: the chain was verified when the session was made, but identity and revocation
    // are checked again - a revocation must take effect at once, not at session expiry.
    const VerifyPolicy* policy = PolicySlot::get(SSL_get_SSL_CTX(ssl));
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (policy == nullptr || leaf == nullptr) {
      reject(out, HandshakeReason::certificate_required, "no verified client certificate");
    } else if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
      // A ticket may outlive the certificate it was issued for (RFC 8446 4.6.1 allows 7 days).
      out.serial_hex = x509::serial_hex(leaf);
      reject(out, HandshakeReason::expired,
             "resumed session of certificate " + out.serial_hex + ", which has expired");
    } else {
      check_leaf(leaf, *policy, out);
    }
  }
  if (rc != 1 && (!out.decided || out.ok())) {
    // Also when the certificate passed but the handshake failed after it (client went away).
    reject(out, classify_ssl_errors(first_error), "");
  }
  std::string errors = x509::drain_openssl_errors();
  if (rc != 1 && !errors.empty()) {
    out.detail = out.detail.empty() ? errors : out.detail + "; " + errors;
  }
  return out;
}

}  // namespace tether::tls

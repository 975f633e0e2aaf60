// The checks every client handshake passes through, after OpenSSL's own chain checks.
//
// OpenSSL builds and checks the path (RFC 5280 6.1: chain, validity, EKU, basic constraints);
// this hook then requires a well-formed tether identity in the leaf and asks the revocation set.
// The outcome (reason, identity, serial, fingerprint, alert sent) is kept on the SSL object so the
// caller can log and count one line per handshake, whichever way it ended.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/handshake_reason.h"
#include "verify/identity.h"
#include "x509/handles.h"

namespace tether::tls {

// The revoked serials a gateway enforces. Implementations must be safe to call from any thread
// that runs handshakes, and cheap (O(1)): it runs on every full handshake.
class RevocationSet {
 public:
  virtual ~RevocationSet() = default;
  // `serial_hex` is lowercase hex without leading zeros, as x509::serial_hex prints it.
  virtual bool is_revoked(std::string_view serial_hex) const = 0;
};

// What the hook checks beyond the chain. Owned by the SSL_CTX once installed.
struct VerifyPolicy {
  std::string trust_domain;                         // for the leaf's SPIFFE URI SAN
  std::shared_ptr<const RevocationSet> revocation;  // null: nothing is revoked
  // CA certificates offered to path building besides the client's own (untrusted), so that a
  // client may send its leaf alone.
  std::vector<x509::X509Ptr> intermediates;
};

struct HandshakeOutcome {
  HandshakeReason reason = HandshakeReason::handshake_failure;
  bool decided = false;  // set once the certificate was judged (or the failure classified)
  std::string detail;    // what was wrong: the certificate at fault, or OpenSSL's errors
  // Set when the client's certificate passed every check.
  std::optional<verify::Identity> identity;
  std::string serial_hex;          // leaf serial, also when it was rejected after chain checks
  std::string fingerprint_sha256;  // leaf SHA-256, lowercase hex
  int alert_sent = -1;             // AlertDescription we sent (RFC 8446 6), -1 if none

  bool ok() const { return reason == HandshakeReason::ok; }
};

// Installs the verification hook and the alert recorder on `ctx`; `ctx` takes ownership of the
// policy. Call once, while building the context.
void install_verify_hook(SSL_CTX* ctx, VerifyPolicy policy);

// The outcome recorded so far on `ssl` (null before any was recorded).
const HandshakeOutcome* handshake_outcome(const SSL* ssl);

// Call after SSL_accept / SSL_do_handshake returned `rc` (1 = done, else failed). Classifies
// failures that happen before certificate verification (protocol_version,
// certificate_required), re-checks validity, identity and revocation on a resumed session (the
// verify hook does not run then, RFC 8446 2.2), drains OpenSSL's error queue into `detail`, and
// returns the final outcome. A rejected resumed session must be closed by the caller.
// `first_error` is the packed OpenSSL error that failed the handshake when the caller already
// took it off the queue (Boost.Asio does: pass its error_code's value when the category is
// asio's SSL category).
const HandshakeOutcome& conclude_handshake(SSL* ssl, int rc, unsigned long first_error = 0);

}  // namespace tether::tls

// The server side TLS context of an mTLS listener: built once from a plain config, read-only after.
//
// A new certificate or trust set means a new ServerContext: callers swap a
// shared_ptr<const ServerContext>, and connections keep the one they started with.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "tls/handshake_verify.h"
#include "tls/session_cache.h"
#include "x509/handles.h"

namespace tether::tls {

enum class TlsVersion { tls1_2, tls1_3 };

struct ServerConfig {
  std::string cert_chain_path;  // PEM: server certificate, then its intermediates
  std::string key_path;         // PEM private key, unencrypted
  // PEM files of trust anchors for client certificates. The system store is never used.
  std::vector<std::string> trust_anchor_paths;
  // PEM files of CA certificates offered to path building besides those the client sends, so a
  // client may send its leaf alone. Untrusted: a path must still end at a trust anchor.
  std::vector<std::string> intermediate_paths;
  // Trust domain of client identities' SPIFFE URIs (spiffe://<trust-domain>/...).
  std::string trust_domain = "tether.internal";
  TlsVersion min_version = TlsVersion::tls1_2;
  std::shared_ptr<const RevocationSet> revocation;  // null: nothing revoked
  // OpenSSL library context the TLS context lives in (null: the default one); must outlive it.
  // One per event loop keeps OpenSSL 3.0's per-library locks (decoders, algorithm fetches) from
  // being contended by every handshake of every thread.
  OSSL_LIB_CTX* library = nullptr;
  // Session ticket keys (80 bytes: name, HMAC and AES keys), shared by every context that must
  // resume each other's sessions; empty: OpenSSL makes its own.
  std::string ticket_keys;
  // Where sessions are kept for resumption: null, stateless tickets (bound to their SNI by the
  // ticket callbacks); else this cache (stateful tickets), shared by the contexts given it.
  SessionCache* session_cache = nullptr;
  // false: a client may connect without a certificate (the server's API, where most clients
  // authenticate with a session or token); one that sends a certificate must still pass every
  // check, or the handshake is refused.
  bool require_client_certificate = true;
};

class ServerContext {
 public:
  // Errors name the file at fault: io_error (unreadable), parse_error (no certificate / key),
  // crypto_error (key does not match the certificate), invalid_argument (no trust anchors).
  static Result<std::shared_ptr<const ServerContext>> create(const ServerConfig& config);

  // The context for SSL_new. Verification outcomes land on each SSL (see handshake_verify.h).
  SSL_CTX* native() const { return ctx_.get(); }
  // A new server-side SSL for one connection.
  Result<x509::SslPtr> new_ssl() const;
  // SHA-256 over trust anchors and settings (hex): changes whenever verification would.
  const std::string& session_id_context_hex() const { return sid_ctx_hex_; }

 private:
  explicit ServerContext(x509::SslCtxPtr ctx, std::string sid_ctx_hex)
      : ctx_(std::move(ctx)), sid_ctx_hex_(std::move(sid_ctx_hex)) {}

  x509::SslCtxPtr ctx_;
  std::string sid_ctx_hex_;
};

}  // namespace tether::tls

#include "tls/server_context.h"

#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <ctime>

#include "common/fs.h"
#include "common/hex.h"
#include "common/time_format.h"
#include "tls/session_binding.h"
#include "x509/inspect.h"
#include "x509/openssl_error.h"
#include "x509/pem.h"

namespace tether::tls {

namespace {

// TLS 1.2 (RFC 5246): ECDHE only, for forward secrecy, and AEAD only (RFC 5288, RFC 7905); no
// CBC, no static RSA key exchange. The server's preference wins (SSL_OP_CIPHER_SERVER_PREFERENCE).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3 (RFC 8446 9.1): every suite is AEAD with (EC)DHE; these are OpenSSL's defaults, named
// so a change of library default cannot widen them.
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// Chain depth bound: leaf, issuing CA, root, and room for one more level in uploaded trust sets.
constexpr int kMaxVerifyDepth = 4;

Result<std::vector<x509::X509Ptr>> read_certificates(const std::string& path,
                                                     std::string_view what) {
  TETHER_ASSIGN_OR_RETURN(std::string text, fs::read_file(path, what));
  auto certs = x509::parse_certificates(text);
  if (!certs.ok()) {
    return make_error(certs.error().code,
                      std::string(what) + " '" + path +
                          "' holds no usable certificate: " + certs.error().message);
  }
  return std::move(certs).value();
}

// A server certificate clients will refuse is refused here, at startup or reload, with what is
// wrong, instead of as handshake failures later: the extendedKeyUsage must allow serverAuth (RFC
// 5280 4.2.1.12), there must be a DNS or IP subjectAltName to check the name against (RFC 6125
// 6.4.4: clients do not fall back to the CN), and now must lie within its validity.
Status check_server_certificate(X509* cert, const std::string& path) {
  std::string what = "server certificate '" + path + "' (" + x509::subject_string(cert) + ")";
  if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0 &&
      (X509_get_extended_key_usage(cert) & XKU_SSL_SERVER) == 0) {
    return make_error(Errc::bad_purpose, what +
                                             " has no serverAuth in its extendedKeyUsage: clients "
                                             "refuse it; issue one for servers");
  }
  bool named = false;
  x509::GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    int type = sk_GENERAL_NAME_value(sans.get(), i)->type;
    named = named || type == GEN_DNS || type == GEN_IPADD;
  }
  if (!named) {
    return make_error(Errc::bad_name, what +
                                          " has no DNS or IP subjectAltName: clients match the "
                                          "host they dial against the SAN only; add one");
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (x509::not_before(cert) > now) {
    return make_error(Errc::not_yet_valid, what + " is not valid before " +
                                               format_rfc3339(x509::not_before(cert)) + " (now " +
                                               format_rfc3339(now) + ")");
  }
  if (x509::not_after(cert) < now) {
    return make_error(Errc::expired, what + " expired at " + format_rfc3339(x509::not_after(cert)) +
                                         " (now " + format_rfc3339(now) + "): renew it");
  }
  return ok_status();
}

Status load_server_identity(SSL_CTX* ctx, const ServerConfig& config) {
  TETHER_ASSIGN_OR_RETURN(auto chain,
                          read_certificates(config.cert_chain_path, "server certificate file"));
  TETHER_TRY(check_server_certificate(chain.front().get(), config.cert_chain_path));
  TETHER_ASSIGN_OR_RETURN(std::string key_pem, fs::read_file(config.key_path, "server key file"));
  TETHER_ASSIGN_OR_RETURN(
      x509::PkeyPtr key,
      x509::parse_private_key(key_pem, "", "server key file '" + config.key_path + "'"));
  TETHER_TRY(x509::check(SSL_CTX_use_certificate(ctx, chain.front().get()), Errc::crypto_error,
                         "cannot use the certificate in '" + config.cert_chain_path + "'"));
  for (size_t i = 1; i < chain.size(); ++i) {
    TETHER_TRY(x509::check(SSL_CTX_add1_chain_cert(ctx, chain[i].get()) == 1 ? 1 : 0,
                           Errc::crypto_error,
                           "cannot add chain certificate " + std::to_string(i + 1) + " of '" +
                               config.cert_chain_path + "'"));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    x509::drain_openssl_errors();
    return make_error(Errc::crypto_error, "server key file '" + config.key_path +
                                              "' does not match the certificate in '" +
                                              config.cert_chain_path + "'");
  }
  return ok_status();
}

// Builds a store holding only the configured anchors, and returns their fingerprints.
Result<std::vector<std::string>> load_trust(SSL_CTX* ctx, const ServerConfig& config) {
  if (config.trust_anchor_paths.empty()) {
    return make_error(Errc::invalid_argument,
                      "no trust anchors configured: give at least one PEM file of CA certificates "
                      "that issue client certificates (the tether root)");
  }
  x509::X509StorePtr store(X509_STORE_new());
  std::vector<std::string> fingerprints;
  for (const auto& path : config.trust_anchor_paths) {
    TETHER_ASSIGN_OR_RETURN(auto certs, read_certificates(path, "trust anchor file"));
    for (const auto& cert : certs) {
      // Adding a duplicate is harmless; OpenSSL 3 no longer reports it as an error.
      TETHER_TRY(x509::check(X509_STORE_add_cert(store.get(), cert.get()), Errc::crypto_error,
                             "cannot add a trust anchor from '" + path + "'"));
      fingerprints.push_back(x509::fingerprint_sha256(cert.get()));
    }
  }
  // RFC 5280 6.1 checks with OpenSSL's strict profile; the purpose makes OpenSSL require the
  // clientAuth EKU (RFC 5280 4.2.1.12) on the leaf.
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_CLIENT);
  X509_VERIFY_PARAM_set_depth(param, kMaxVerifyDepth);
  SSL_CTX_set_cert_store(ctx, store.release());  // the context owns it now
  std::sort(fingerprints.begin(), fingerprints.end());
  return fingerprints;
}

// The intermediates, each a CA certificate (RFC 5280 4.2.1.9), with their fingerprints for the
// session id context.
Result<std::vector<x509::X509Ptr>> load_intermediates(const ServerConfig& config,
                                                      std::vector<std::string>& fingerprints) {
  std::vector<x509::X509Ptr> out;
  for (const auto& path : config.intermediate_paths) {
    TETHER_ASSIGN_OR_RETURN(auto certs, read_certificates(path, "intermediates file"));
    for (auto& cert : certs) {
      if (X509_check_ca(cert.get()) == 0) {
        return make_error(Errc::not_a_ca, "intermediates file '" + path + "' holds " +
                                              x509::subject_string(cert.get()) +
                                              ", which is not a CA certificate: list only the CAs "
                                              "that issue client certificates");
      }
      fingerprints.push_back("intermediate=" + x509::fingerprint_sha256(cert.get()));
      out.push_back(std::move(cert));
    }
  }
  return out;
}

// RFC 5246 7.4.1.2 / RFC 8446 2.2: a session resumes only under the same session id context.
// Hashing every input of verification into it means a session made under one trust set can
// never be resumed under another.
Status set_session_id_context(SSL_CTX* ctx, const ServerConfig& config,
                              const std::vector<std::string>& fingerprints, std::string& hex) {
  std::string input = "tether-tls-server-v1\n";
  input += "min_version=" + std::to_string(static_cast<int>(config.min_version)) + "\n";
  input += "trust_domain=" + config.trust_domain + "\n";
  input += "purpose=sslclient strict depth=" + std::to_string(kMaxVerifyDepth) + "\n";
  if (!config.require_client_certificate) input += "client_certificate=optional\n";
  for (const auto& fp : fingerprints) input += "anchor=" + fp + "\n";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  TETHER_TRY(
      x509::check(EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr),
                  Errc::crypto_error, "cannot hash the session id context"));
  static_assert(SSL_MAX_SID_CTX_LENGTH >= 32, "SHA-256 must fit the session id context");
  TETHER_TRY(x509::check(SSL_CTX_set_session_id_context(ctx, digest, size), Errc::crypto_error,
                         "cannot set the session id context"));
  hex = hex::encode(std::span(digest, size));
  return ok_status();
}

}  // namespace

Result<std::shared_ptr<const ServerContext>> ServerContext::create(const ServerConfig& config) {
  TETHER_TRY(verify::validate_trust_domain(config.trust_domain));
  x509::SslCtxPtr ctx(SSL_CTX_new_ex(config.library, nullptr, TLS_server_method()));
  if (!ctx) return x509::openssl_error(Errc::crypto_error, "cannot create a TLS context");
  SSL_CTX* c = ctx.get();

  int min = config.min_version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  TETHER_TRY(x509::check(SSL_CTX_set_min_proto_version(c, min), Errc::crypto_error,
                         "cannot set the minimum TLS version"));
  TETHER_TRY(x509::check(SSL_CTX_set_cipher_list(c, kTls12Ciphers), Errc::crypto_error,
                         "cannot set the TLS 1.2 cipher list"));
  TETHER_TRY(x509::check(SSL_CTX_set_ciphersuites(c, kTls13Suites), Errc::crypto_error,
                         "cannot set the TLS 1.3 cipher suites"));
  // No compression (CRIME); no renegotiation (RFC 5746 problems, and TLS 1.3 has none: RFC
  // 8446 4.1.2), so a client cannot swap certificates mid-connection.
  SSL_CTX_set_options(
      c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // A client that closes without close_notify (many do) ends the connection like one that sent
  // it, as nginx configures too: otherwise OpenSSL 3.0 treats the EOF as a fatal error and
  // drops the session from the cache. HTTP messages carry their own lengths, so a truncated
  // request is still caught by the parser.
  SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);

  TETHER_TRY(load_server_identity(c, config));
  TETHER_ASSIGN_OR_RETURN(auto fingerprints, load_trust(c, config));
  TETHER_ASSIGN_OR_RETURN(auto intermediates, load_intermediates(config, fingerprints));

  // A client certificate is required (RFC 8446 4.3.2, RFC 5246 7.4.4); OpenSSL then aborts a
  // TLS 1.3 handshake without one with certificate_required (RFC 8446 4.4.2.4).
  SSL_CTX_set_verify(c,
                     config.require_client_certificate
                         ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                         : SSL_VERIFY_PEER,
                     nullptr);
  // certificate_authorities (RFC 8446 4.2.4) / certificate_authorities list of the TLS 1.2
  // CertificateRequest (RFC 5246 7.4.4) stay empty: with many tenants' trust sets the list
  // would grow without bound, and the connector knows which certificate to send anyway.
  SSL_CTX_set_client_CA_list(c, sk_X509_NAME_new_null());
  install_verify_hook(
      c, VerifyPolicy{config.trust_domain, config.revocation, std::move(intermediates)});

  std::string sid_hex;
  TETHER_TRY(set_session_id_context(c, config, fingerprints, sid_hex));
  TETHER_TRY(bind_sessions_to_server_name(c));
  if (config.session_cache != nullptr) config.session_cache->install(c);
  // One TLS 1.3 ticket per full handshake, not OpenSSL's default two: a connector resumes with
  // one, and each ticket costs a session encode and decode (the client chain included).
  SSL_CTX_set_num_tickets(c, 1);
  if (!config.ticket_keys.empty()) {
    TETHER_TRY(
        x509::check(SSL_CTX_set_tlsext_ticket_keys(c, const_cast<char*>(config.ticket_keys.data()),
                                                   static_cast<long>(config.ticket_keys.size())),
                    Errc::crypto_error, "cannot set the session ticket keys"));
  }
  return std::shared_ptr<const ServerContext>(new ServerContext(std::move(ctx), sid_hex));
}

Result<x509::SslPtr> ServerContext::new_ssl() const {
  x509::SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl) return x509::openssl_error(Errc::crypto_error, "cannot create a TLS connection");
  return ssl;
}

}  // namespace tether::tls

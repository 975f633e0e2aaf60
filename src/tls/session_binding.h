// Session resumption that cannot cross a server name.
//
// A session ticket carries the SNI it was issued for; a ticket presented under another SNI is
// ignored and the client gets a full handshake (and a fresh ticket). Without this a client
// could resume, under tenant B's host name, a session whose certificate was checked for tenant
// A's (tenant isolation). The identity is bound already: a resumed session carries its
// client certificate, which conclude_handshake checks again.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tether::tls {

// Installs the ticket callbacks and turns the server-side session id cache off, so tickets are
// the only way to resume and every resumption passes the check.
Status bind_sessions_to_server_name(SSL_CTX* ctx);

// The server name this handshake's ClientHello asked for ("" when it sent none), on full and
// resumed handshakes alike. SSL_get_servername is no substitute: on a resumed TLS 1.2 session
// OpenSSL 3.0 reports the session's stored name, which a session cache that keeps sessions
// outside OpenSSL (session_cache.h) does not carry, so it answers "none" there. The session
// cache resumes a session only under the name it was made for, so this is also that name.
std::string_view client_hello_server_name(const SSL* ssl);

// "sni:<name>" for the server name the client asked for in this handshake's ClientHello ("sni:"
// when it sent none): what a session is bound to.
std::string session_binding(SSL* ssl);

// The host name in a ClientHello's server_name extension body (RFC 6066 3), or nullopt when
// the body is malformed or names no host. Untrusted bytes: fuzzed by fuzz_server_name.
std::optional<std::string> parse_server_name_extension(const unsigned char* data, size_t size);

}  // namespace tether::tls

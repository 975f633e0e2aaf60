// Session resumption that cannot cross a server name.
//
// A session ticket carries the SNI it was issued for; a ticket presented under another SNI is
// ignored and the client gets a full handshake (and a fresh ticket). Without this a client
// could resume, under tenant B's host name, a session whose certificate was checked for tenant
// A's (issue 3, tenant isolation). The identity is bound already: a resumed session carries its
// client certificate, which conclude_handshake checks again.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "common/error.h"

namespace tether::tls {

// Installs the ticket callbacks and turns the server-side session id cache off, so tickets are
// the only way to resume and every resumption passes the check.
Status bind_sessions_to_server_name(SSL_CTX* ctx);

// "sni:<name>" for the server name the client asked for in this handshake's ClientHello ("sni:"
// when it sent none): what a session is bound to.
std::string session_binding(SSL* ssl);

// The host name in a ClientHello's server_name extension body (RFC 6066 3), or nullopt when
// the body is malformed or names no host. Untrusted bytes: fuzzed by fuzz_server_name.
std::optional<std::string> parse_server_name_extension(const unsigned char* data, size_t size);

}  // namespace tether::tls

// Requests and responses of the server's HTTPS API, and what a request knows of the connection
// it came on.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

#include "verify/identity.h"

namespace tether::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// The TLS connection of a request. A client certificate is optional on the API listener; when
// one was presented it passed the same checks as at the gateway (chain to the tether root,
// identity, revocation), or the handshake was refused.
struct Peer {
  std::string address;  // the client's IP address, as text
  std::optional<verify::Identity> certificate_identity;
  std::string certificate_serial;       // lowercase hex, as x509::serial_hex prints it
  std::string certificate_fingerprint;  // SHA-256, lowercase hex
  int64_t certificate_not_after = 0;
};

}  // namespace tether::server

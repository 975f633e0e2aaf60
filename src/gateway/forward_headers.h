// The header rewriting of a proxied request and its response (RFC 9110 7.6.1): hop-by-hop
// fields are dropped in both directions, and the identity headers the upstream trusts are set
// by the gateway alone.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <string>
#include <string_view>

#include "verify/identity.h"

namespace tether::gateway {

namespace http = boost::beast::http;

struct ForwardedFor {
  const verify::Identity& identity;
  std::string_view identity_name;       // identity.common_name()
  std::string_view fingerprint_sha256;  // of the client certificate, lowercase hex
  std::string_view client_address;      // peer IP (or PROXY protocol source), X-Forwarded-For
  std::string_view host;                // canonical Host the request was routed on
};

// Identity headers set upstream. Any header starting with "X-Tether-" that a client sent is
// removed first (not only these three), so no header of that family can be forged.
inline constexpr std::string_view kIdentityHeader = "X-Tether-Identity";
inline constexpr std::string_view kTenantHeader = "X-Tether-Tenant";
inline constexpr std::string_view kCertSha256Header = "X-Tether-Cert-Sha256";

// Rewrites a client request's fields for the upstream. With `upgrade` (a WebSocket handshake),
// Connection: Upgrade and Upgrade are kept, since the upstream must see them.
//
// The gateway is the trust boundary, so what a client says about where the request came from is
// removed: Forwarded (RFC 7239), every X-Forwarded-* field and X-Real-IP. The gateway then sets
// X-Forwarded-For to the client's address alone, X-Forwarded-Proto to https and
// X-Forwarded-Host to the routed host. Client-sent values are never trusted, not even from a
// load balancer: one in front of an mTLS gateway can only be a TCP (L4) proxy, which cannot add
// HTTP fields inside the TLS connection; it passes the client's address by PROXY protocol.
void rewrite_request_fields(http::fields& fields, const ForwardedFor& from, bool upgrade);

// Drops the upstream response's hop-by-hop fields (except for a 101 upgrade).
void rewrite_response_fields(http::fields& fields, bool upgrade);

}  // namespace tether::gateway

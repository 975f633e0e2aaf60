// The request target and Host header of a client request, parsed once with Boost.URL and
// reduced to the one form the gateway both routes on and forwards (RFC 3986 6, RFC 9112 3.2).
//
// The rule: the path a route is matched on is the path the upstream receives, as an upstream
// that percent-decodes paths (nginx, most frameworks) would read it. So the gateway
//  - decodes every percent-encoded octet of the path and matches routes on the decoded path;
//  - forwards that decoded path re-encoded canonically (only what a path segment cannot carry
//    literally is encoded, with upper-case hex), so decoding it again gives back exactly the
//    path that was matched;
//  - refuses (400) what would decode into something else than it looked like: an encoded '/'
//    or '\' in a segment, a dot segment in any spelling ("..", "%2e%2e", ".%2E", "..;x"),
//    control characters, invalid percent-encoding;
//  - merges empty segments ("/a//b" is "/a/b", as nginx's merge_slashes does), since an
//    upstream that merges them would otherwise serve a path no route was matched on.
// The query is forwarded as received (its syntax checked); routes never look at it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tether::gateway {

struct RequestTarget {
  std::string path;     // decoded and normalised, what routes match on: "/api/v1/a b"
  std::string forward;  // what the upstream receives: "/api/v1/a%20b?x=1"
};

// Parses an origin-form request target ("/path?query"). Errors (Errc::invalid_argument) are one
// sentence naming the offending part and what to send instead.
Result<RequestTarget> parse_request_target(std::string_view target);

struct HostHeader {
  std::string host;              // lowercase, no trailing dot, IPv6 without brackets
  std::optional<uint16_t> port;  // when the header names one
  std::string value;             // canonical header value: host (bracketed if IPv6) [":" port]
};

// Parses a Host header value (RFC 9110 7.2: uri-host [":" port]). Errors name the value.
Result<HostHeader> parse_host_header(std::string_view value);

}  // namespace tether::gateway

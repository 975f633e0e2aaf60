// The framing of a request's body (RFC 9112 6), decided from its head before any body byte is
// read or anything is forwarded.
//
// Beast's parser reads a body as chunked only when "chunked" is the final transfer coding, and
// otherwise treats a request as having no body: the body of "Transfer-Encoding: chunked,
// identity" would then be parsed as the next request on the connection (request smuggling). The
// gateway forwards only bodies it framed itself, so anything but plain chunked is refused, and
// the connection is closed since its framing is unknown:
//  - a final coding other than chunked, chunked applied twice, or Transfer-Encoding in an
//    HTTP/1.0 request: 400 (RFC 9112 6.1, 6.3);
//  - another coding before chunked (gzip, deflate, ...): 501, a coding the gateway does not
//    implement (RFC 9112 6.1) and would have to forward undecoded.
// Transfer-Encoding together with Content-Length is refused by Beast's parser already (400).
#pragma once

#include <boost/beast/http/message.hpp>
#include <optional>
#include <string>

#include "common/error.h"

namespace tether::gateway {

struct FramingRefusal {
  Errc code = Errc::bad_request;  // bad_request (400) or not_implemented (501)
  std::string reason;             // names the header value and the rule
};

// nullopt: the body is framed by Content-Length, by chunked alone, or absent.
std::optional<FramingRefusal> check_request_framing(
    const boost::beast::http::request_header<>& head);

}  // namespace tether::gateway

// What the gateway does with one HTTP request, decided from its head alone before any body is
// read: which route, or which refusal. Pure, so every rule is unit-tested without sockets.
//
// Order matters for tenant isolation:
//  0. the target and the Host header are parsed once (request_target.h): a target that would
//     read differently upstream than here, or a malformed Host, is refused (bad_request, 400);
//  1. the route is chosen by the TLS server name when the client sent one (the name its
//     session was made for), else by the Host header (no_route, 404);
//  2. the route's allow rules decide (forbidden, 403, default deny): a tenant's identity never
//     reaches another tenant's route, whichever names it sends;
//  3. a Host that names another host than the SNI is refused (misdirected_request, 421,
//     RFC 9110 15.5.20), so an allowed connection cannot be pointed at another virtual host.
// Refusals are codes of the failure table (common/failures.def): it gives their status.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "gateway/route.h"
#include "verify/identity.h"

namespace tether::gateway {

struct RequestHead {
  std::string_view target;  // request-target as received
  std::string_view host;    // the Host header as received ("" when absent)
  size_t host_count = 1;    // how many Host headers arrived
  std::string_view sni;     // TLS server name ("" when none was sent)
  uint16_t port = 0;        // listener port the connection came in on
};

struct RequestDecision {
  Errc refusal = Errc::ok;       // ok: proxy to `route`; else answer with this failure
  const Route* route = nullptr;  // set when a route matched (also on 403 / 421)
  std::string reason;            // sentence naming the offending value
  std::string rule;              // the allow rule that matched, or "default-deny" on 403
  // Set once parsed (from 404 on): the path routes matched and the target to forward, and the
  // canonical Host value to forward.
  RequestTarget target;
  std::string host;

  bool proxy() const { return refusal == Errc::ok; }
  // The status to answer a refusal with (http_status of the failure table).
  int status() const { return http_status(refusal); }
};

RequestDecision decide_request(const RouteTable& routes, const RequestHead& head,
                               const verify::Identity& identity);

// The JSON body of a refusal: {"error", "reason", "route"?, "rule"?}.
std::string refusal_body(const RequestDecision& decision);

}  // namespace tether::gateway

#include "gateway/request_decision.h"

#include <boost/json.hpp>

#include "common/quote.h"
#include "gateway/policy.h"

namespace tether::gateway {

namespace {

RequestDecision refuse(int status, std::string error, std::string reason,
                       const Route* route = nullptr) {
  RequestDecision d;
  d.status = status;
  d.route = route;
  d.error = std::move(error);
  d.reason = std::move(reason);
  return d;
}

}  // namespace

RequestDecision decide_request(const RouteTable& routes, const RequestHead& head,
                               const pki::Identity& identity) {
  if (!head.target.starts_with('/')) {
    return refuse(400, "bad_request",
                  "request target " + quote_value(head.target, '"') +
                      " is not a path: send origin-form (\"/path?query\")");
  }
  if (head.host_count != 1 || head.host.empty()) {
    return refuse(400, "bad_request",
                  head.host_count > 1 ? "more than one Host header"
                                      : "no Host header: HTTP/1.1 requires one");
  }
  const Route* route = match_route(routes, head.sni, head.host, head.target, head.port);
  if (route == nullptr || route->protocol == Protocol::tcp) {
    std::string name(head.sni.empty() ? strip_port(head.host) : head.sni);
    return refuse(404, "no_route",
                  "no route for host " + quote_value(name, '"') + " and path " +
                      quote_value(head.target.substr(0, head.target.find('?')), '"'));
  }
  Decision decision = authorize(*route, identity);
  if (!decision.allowed) {
    RequestDecision d = refuse(403, "forbidden", decision.reason, route);
    d.rule = "default-deny";
    return d;
  }
  if (!host_matches_sni(head.host, head.sni)) {
    return refuse(421, "misdirected_request",
                  "Host " + quote_value(head.host, '"') +
                      " names another host than the TLS server name " + quote_value(head.sni, '"') +
                      ": connect with that host as SNI",
                  route);
  }
  RequestDecision d;
  d.route = route;
  d.rule = std::move(decision.rule);
  return d;
}

std::string refusal_body(const RequestDecision& d) {
  boost::json::object body{{"error", d.error}, {"reason", d.reason}};
  if (d.route != nullptr) body["route"] = d.route->name;
  if (!d.rule.empty()) body["rule"] = d.rule;
  return boost::json::serialize(body) + "\n";
}

}  // namespace tether::gateway

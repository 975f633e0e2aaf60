#include "gateway/request_decision.h"

#include <boost/json.hpp>

#include "common/quote.h"
#include "gateway/policy.h"

namespace tether::gateway {

namespace {

RequestDecision refuse(Errc refusal, std::string reason) {
  RequestDecision d;
  d.refusal = refusal;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

RequestDecision decide_request(const RouteTable& routes, const RequestHead& head,
                               const verify::Identity& identity) {
  auto target = parse_request_target(head.target);
  if (!target) return refuse(Errc::bad_request, target.error().message);
  if (head.host_count != 1 || head.host.empty()) {
    return refuse(Errc::bad_request, head.host_count > 1 ? "more than one Host header"
                                                         : "no Host header: HTTP/1.1 requires one");
  }
  auto host = parse_host_header(head.host);
  if (!host) return refuse(Errc::bad_request, host.error().message);
  // The server name is held to the Host header's rules (one parser): "." would otherwise read as
  // "no server name" and route by Host alone, and "a.." would compare unlike the Host "a".
  std::string sni;
  if (!head.sni.empty()) {
    auto name = parse_host_header(head.sni);
    if (!name || head.sni.find(':') != std::string_view::npos || name->value.starts_with('[')) {
      return refuse(Errc::bad_request,
                    "the TLS server name " + quote_value(head.sni, '"') +
                        " is not a host name: send the host name as SNI, or none");
    }
    sni = std::move(name->host);
  }
  std::string_view name = sni.empty() ? std::string_view(host->host) : std::string_view(sni);
  // From here every decision, refusals included, carries the parsed target (logs name its path).
  RequestDecision d;
  d.route = match_route(routes, name, *target, head.port);
  d.target = std::move(target).value();
  auto refused = [&](Errc refusal, std::string reason) {
    d.refusal = refusal;
    d.reason = std::move(reason);
    return std::move(d);
  };
  if (d.route == nullptr || d.route->protocol == Protocol::tcp) {
    d.route = nullptr;
    return refused(Errc::no_route, "no route for host " + quote_value(name, '"') + " and path " +
                                       quote_value(d.target.path, '"'));
  }
  Decision decision = authorize(*d.route, identity);
  if (!decision.allowed) {
    d.rule = "default-deny";
    return refused(Errc::forbidden, decision.reason);
  }
  if (!host_matches_sni(host->host, sni)) {
    return refused(Errc::misdirected_request, "Host " + quote_value(head.host, '"') +
                                                  " names another host than the TLS server name " +
                                                  quote_value(head.sni, '"') +
                                                  ": connect with that host as SNI");
  }
  d.rule = std::move(decision.rule);
  d.host = std::move(host->value);
  return d;
}

std::string refusal_body(const RequestDecision& d) {
  boost::json::object body{{"error", errc_reason(d.refusal)}, {"reason", d.reason}};
  if (d.route != nullptr) body["route"] = d.route->name;
  if (!d.rule.empty()) body["rule"] = d.rule;
  return boost::json::serialize(body) + "\n";
}

}  // namespace tether::gateway

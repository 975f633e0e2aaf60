// The header rewriting of a proxied request (gateway::rewrite_request_fields: Connection and the
// fields it names, hop-by-hop fields, identity and forwarding headers) and the framing check
// (gateway::check_request_framing), on arbitrary header fields. The first byte chooses an
// upgrade; the rest is "Name: value" lines. Checks that what reaches the upstream carries no
// field the client could use to speak for the gateway.
#include <boost/beast/core/string.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "gateway/forward_headers.h"
#include "gateway/request_framing.h"

using namespace tether;
using namespace tether::gateway;

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && boost::beast::iequals(s.substr(0, prefix.size()), prefix);
}

size_t count(const http::fields& f, std::string_view name) {
  return static_cast<size_t>(std::distance(f.equal_range(name).first, f.equal_range(name).second));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bool upgrade = (data[0] & 1) != 0;
  std::string_view rest = fuzz::as_view(data + 1, size - 1);
  http::request_header<> head;
  head.method(http::verb::post);
  head.target("/");
  head.version((data[0] & 2) ? 10 : 11);
  std::vector<std::string> connection_named;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    // Beast refuses field names that are not tokens; keep to what its parser would accept.
    bool token = true;
    for (char c : name) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f ||
          std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) {
        token = false;
      }
    }
    if (!token || value.find('\r') != std::string_view::npos) continue;
    head.insert(name, value);
  }
  (void)check_request_framing(head);

  static const verify::Identity acme = verify::Identity::connector("acme", "edge-1");
  rewrite_request_fields(head, {acme, "connector/acme/edge-1", "ab12", "192.0.2.1", "acme.test"},
                         upgrade);
  for (const auto& field : head) {
    std::string_view name = field.name_string();
    if (starts_with_nocase(name, "x-tether-")) {
      fuzz::require(boost::beast::iequals(name, kIdentityHeader) ||
                        boost::beast::iequals(name, kTenantHeader) ||
                        boost::beast::iequals(name, kCertSha256Header),
                    "only the gateway's own X-Tether-* fields reach the upstream");
    }
    fuzz::require(
        !boost::beast::iequals(name, "forwarded") && !boost::beast::iequals(name, "x-real-ip"),
        "no client forwarding field reaches the upstream");
    if (starts_with_nocase(name, "x-forwarded-")) {
      fuzz::require(boost::beast::iequals(name, "x-forwarded-for") ||
                        boost::beast::iequals(name, "x-forwarded-proto") ||
                        boost::beast::iequals(name, "x-forwarded-host"),
                    "only the gateway's own X-Forwarded-* fields reach the upstream");
    }
    for (auto hop : {"keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                     "proxy-authorization", "expect"}) {
      fuzz::require(!boost::beast::iequals(name, hop), "no hop-by-hop field reaches the upstream");
    }
  }
  fuzz::require(count(head, "X-Forwarded-For") == 1 && head["X-Forwarded-For"] == "192.0.2.1",
                "X-Forwarded-For is the client's address alone");
  fuzz::require(
      count(head, kIdentityHeader) == 1 && head[kIdentityHeader] == "connector/acme/edge-1",
      "one identity header, the gateway's");
  if (!upgrade)
    fuzz::require(count(head, "Connection") == 0, "no Connection field without upgrade");
  return 0;
}

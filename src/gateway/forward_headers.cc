#include "gateway/forward_headers.h"

#include <boost/beast/core/string.hpp>
#include <vector>

namespace tether::gateway {

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && boost::beast::iequals(s.substr(0, prefix.size()), prefix);
}

// Connection, the fields it names, and the fixed hop-by-hop list (RFC 9110 7.6.1; Keep-Alive
// and Proxy-Connection are the old ones clients still send).
void drop_hop_by_hop(http::fields& fields, bool upgrade) {
  std::vector<std::string> named;
  for (auto it = fields.find(http::field::connection);
       it != fields.end() && it->name() == http::field::connection; ++it) {
    std::string_view value = it->value();
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      std::string_view token =
          value.substr(start, comma == std::string_view::npos ? value.npos : comma - start);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
        token.remove_prefix(1);
      }
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
        token.remove_suffix(1);
      }
      if (!token.empty() && !(upgrade && boost::beast::iequals(token, "upgrade"))) {
        named.emplace_back(token);
      }
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  for (const auto& name : named) fields.erase(name);
  for (auto field : {http::field::keep_alive, http::field::proxy_connection, http::field::te,
                     http::field::trailer, http::field::transfer_encoding,
                     http::field::proxy_authenticate, http::field::proxy_authorization}) {
    fields.erase(field);
  }
  if (!upgrade) {
    fields.erase(http::field::connection);
    fields.erase(http::field::upgrade);
  }
}

}  // namespace

void rewrite_request_fields(http::fields& fields, const ForwardedFor& from, bool upgrade) {
  drop_hop_by_hop(fields, upgrade);
  for (auto it = fields.begin(); it != fields.end();) {
    std::string_view name = it->name_string();
    bool spoofable =
        starts_with_nocase(name, "x-tether-") || starts_with_nocase(name, "x-forwarded-") ||
        boost::beast::iequals(name, "forwarded") || boost::beast::iequals(name, "x-real-ip");
    it = spoofable ? fields.erase(it) : std::next(it);
  }
  // Expect: 100-continue was answered by the gateway itself, which read the body already.
  fields.erase(http::field::expect);
  fields.set(kIdentityHeader, from.identity_name);
  if (from.identity.kind == verify::IdentityKind::connector) {
    fields.set(kTenantHeader, from.identity.tenant);
  }
  fields.set(kCertSha256Header, from.fingerprint_sha256);
  fields.set("X-Forwarded-For", from.client_address);
  fields.set("X-Forwarded-Proto", "https");
  fields.set("X-Forwarded-Host", from.host);
}

void rewrite_response_fields(http::fields& fields, bool upgrade) {
  drop_hop_by_hop(fields, upgrade);
}

}  // namespace tether::gateway

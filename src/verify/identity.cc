#include "verify/identity.h"

#include <vector>

#include "common/dns_name.h"
#include "common/quote.h"
#include "x509/inspect.h"

namespace tether::verify {

namespace {
constexpr size_t kMaxIdLength = 63;

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == s.npos ? s.npos : pos - start));
    if (pos == s.npos) break;
    start = pos + 1;
  }
  return parts;
}

std::string quoted(std::string_view value) {
  return quote_value(value, '\'');
}
}  // namespace

Identity Identity::connector(std::string tenant, std::string id) {
  return Identity{IdentityKind::connector, std::move(tenant), std::move(id)};
}

std::string Identity::common_name() const {
  switch (kind) {
    case IdentityKind::connector:
      return "connector/" + tenant + "/" + name;
    case IdentityKind::service:
      return "service/" + name;
    case IdentityKind::gateway:
      return "gateway/" + name;
    case IdentityKind::admin:
      return "admin/" + name;
  }
  return {};
}

std::string Identity::spiffe_uri(std::string_view trust_domain) const {
  std::string base = "spiffe://" + std::string(trust_domain);
  switch (kind) {
    case IdentityKind::connector:
      return base + "/tenant/" + tenant + "/connector/" + name;
    case IdentityKind::service:
      return base + "/service/" + name;
    case IdentityKind::admin:
      return base + "/admin/" + name;
    case IdentityKind::gateway:
      return {};
  }
  return {};
}

Status validate_id(std::string_view value, std::string_view what) {
  auto fail = [&](std::string_view problem) {
    return make_error(Errc::invalid_id,
                      std::string(what) + " " + quoted(value) + " " + std::string(problem) +
                          ": ids are 1-63 characters of a-z, 0-9 and '-', not starting or "
                          "ending with '-'");
  };
  if (value.empty()) return fail("is empty");
  if (value.size() > kMaxIdLength) {
    return fail("is " + std::to_string(value.size()) + " characters long");
  }
  for (char c : value) {
    if (!id_char(c)) return fail("contains " + quoted(std::string_view(&c, 1)));
  }
  if (value.front() == '-' || value.back() == '-') return fail("starts or ends with '-'");
  return ok_status();
}

Status validate_trust_domain(std::string_view value) {
  auto fail = [&](std::string_view problem) {
    return make_error(Errc::invalid_argument,
                      "trust domain " + quoted(value) + " " + std::string(problem) +
                          ": use a lowercase DNS name such as 'tether.internal'");
  };
  if (auto problem = ldh_name_problem(value, LetterCase::lower_only)) return fail(*problem);
  return ok_status();
}

Result<Identity> identity_from_certificate(X509* cert,
                                           std::optional<std::string_view> trust_domain) {
  std::string cn = x509::common_name(X509_get_subject_name(cert));
  auto bad = [&](std::string problem) {
    return make_error(Errc::bad_certificate,
                      "certificate subject CN " + quoted(cn) + " " + problem);
  };
  auto parts = split(cn, '/');
  Identity identity;
  if (parts.size() == 3 && parts[0] == "connector") {
    identity = Identity::connector(std::string(parts[1]), std::string(parts[2]));
    TETHER_TRY(validate_id(identity.tenant, "tenant id"));
    TETHER_TRY(validate_id(identity.name, "connector id"));
  } else if (parts.size() == 2 &&
             (parts[0] == "service" || parts[0] == "gateway" || parts[0] == "admin")) {
    identity.kind = parts[0] == "service"   ? IdentityKind::service
                    : parts[0] == "gateway" ? IdentityKind::gateway
                                            : IdentityKind::admin;
    identity.name = std::string(parts[1]);
    TETHER_TRY(validate_id(identity.name, std::string(parts[0]) + " name"));
  } else {
    return bad(
        "is not a tether identity (connector/<tenant>/<id>, service/<name>, "
        "gateway/<name> or admin/<name>)");
  }
  if (trust_domain && identity.kind != IdentityKind::gateway) {
    std::string expected = identity.spiffe_uri(*trust_domain);
    auto uris = x509::uri_sans(cert);
    if (uris.size() != 1 || uris[0] != expected) {
      return bad("does not match its URI SAN: expected exactly '" + expected + "'");
    }
  }
  return identity;
}

}  // namespace tether::verify

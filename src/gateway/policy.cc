#include "gateway/policy.h"

#include "gateway/route.h"

namespace tether::gateway {

namespace {

constexpr std::string_view kForms =
    "use \"connector:<tenant>/<id>\", \"connector:<tenant>/*\", \"tenant:<tenant>\", "
    "\"service:<name>\" or \"admin:<name>\"";

// Wraps an id error so it also names the setting and the whole rule.
Error id_error(std::string_view setting, std::string_view text, const Error& e) {
  return make_error(Errc::invalid_argument,
                    std::string(setting) + " \"" + std::string(text) + "\": " + e.message);
}

}  // namespace

Result<Rule> parse_rule(std::string_view text, std::string_view setting) {
  auto bad = [&](std::string_view problem) {
    return make_error(Errc::invalid_argument, std::string(setting) + " \"" + std::string(text) +
                                                  "\" " + std::string(problem) + ": " +
                                                  std::string(kForms));
  };
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad("has no kind prefix");
  std::string_view kind = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);

  Rule rule;
  rule.text = std::string(text);
  if (kind == "connector") {
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return bad("has no '/' between tenant and connector id");
    std::string_view tenant = rest.substr(0, slash);
    std::string_view id = rest.substr(slash + 1);
    if (auto s = verify::validate_id(tenant, "tenant id"); !s)
      return id_error(setting, text, s.error());
    if (id != Rule::kAnyConnector) {
      if (auto s = verify::validate_id(id, "connector id"); !s) {
        return id_error(setting, text, s.error());
      }
    }
    rule.kind = Rule::Kind::connector;
    rule.tenant = std::string(tenant);
    rule.name = std::string(id);
    return rule;
  }
  Rule::Kind k;
  std::string_view what;
  if (kind == "tenant") {
    k = Rule::Kind::tenant;
    what = "tenant id";
  } else if (kind == "service") {
    k = Rule::Kind::service;
    what = "service name";
  } else if (kind == "admin") {
    k = Rule::Kind::admin;
    what = "admin name";
  } else {
    return bad("has an unknown kind '" + std::string(kind) + "'");
  }
  bool every_tenant = k == Rule::Kind::tenant && rest == Rule::kAnyTenant;
  if (!every_tenant) {
    if (auto s = verify::validate_id(rest, what); !s) return id_error(setting, text, s.error());
  }
  rule.kind = k;
  (k == Rule::Kind::tenant ? rule.tenant : rule.name) = std::string(rest);
  return rule;
}

bool allows(const Rule& rule, const verify::Identity& identity) {
  using verify::IdentityKind;
  switch (rule.kind) {
    case Rule::Kind::connector:
      if (identity.kind != IdentityKind::connector) return false;
      if (identity.tenant != rule.tenant) return false;
      return rule.name == Rule::kAnyConnector || identity.name == rule.name;
    case Rule::Kind::tenant:
      return identity.kind == IdentityKind::connector &&
             (rule.tenant == Rule::kAnyTenant || identity.tenant == rule.tenant);
    case Rule::Kind::service:
      return identity.kind == IdentityKind::service && identity.name == rule.name;
    case Rule::Kind::admin:
      return identity.kind == IdentityKind::admin && identity.name == rule.name;
  }
  return false;
}

Decision authorize(const Route& route, const verify::Identity& identity) {
  for (const Rule& rule : route.allow) {
    if (!allows(rule, identity)) continue;
    return Decision{true, rule.text,
                    "identity '" + identity.common_name() + "' allowed on route '" + route.name +
                        "' by rule \"" + rule.text + "\""};
  }
  return Decision{false,
                  {},
                  "no allow rule of route '" + route.name + "' matches identity '" +
                      identity.common_name() + "'"};
}

}  // namespace tether::gateway

// Who may use a route: allow rules parsed once at config time, and the decision for one verified
// identity. Authorization reads only the typed identity (validation and authorization are separate
// steps) and fails closed.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "verify/identity.h"

namespace tether::gateway {

struct Route;

// One entry of a route's `allow` list.
struct Rule {
  enum class Kind {
    connector,  // "connector:<tenant>/<id>", or "connector:<tenant>/*" for every connector of it
    tenant,     // "tenant:<tenant>": every connector of that tenant (never services or admins);
                // "tenant:*": every connector of every tenant (an echo such as internal:whoami)
    service,    // "service:<name>"
    admin,      // "admin:<name>"
  };
  Kind kind = Kind::connector;
  std::string tenant;  // connector and tenant rules only
  std::string name;    // connector id ("*" = any), service or admin name
  std::string text;    // as written in the config, for logs and 403 bodies

  // The wildcard is only ever a whole connector id, so it cannot cross a tenant boundary.
  static constexpr std::string_view kAnyConnector = "*";
  static constexpr std::string_view kAnyTenant = "*";
};

// Parses one allow rule. `setting` names it in errors (e.g. "route[2].allow[0]"); the message
// quotes the value and lists the accepted forms. Ids are checked with verify::validate_id.
Result<Rule> parse_rule(std::string_view text, std::string_view setting);

bool allows(const Rule& rule, const verify::Identity& identity);

struct Decision {
  bool allowed = false;
  std::string rule;    // the rule that allowed the request; empty on deny
  std::string reason;  // names the identity and the route, for the log line and the 403 body
};

// First rule of the route that allows the identity; deny when none does (default deny).
Decision authorize(const Route& route, const verify::Identity& identity);

}  // namespace tether::gateway

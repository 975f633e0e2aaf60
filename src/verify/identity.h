// Identities: the one name every tether certificate carries: CN `<kind>/...` and the matching
// SPIFFE URI SAN.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::verify {

enum class IdentityKind { connector, service, gateway, admin };

struct Identity {
  IdentityKind kind = IdentityKind::connector;
  std::string tenant;  // connectors only
  std::string name;    // connector id, service / gateway / admin name

  static Identity connector(std::string tenant, std::string id);

  // "connector/acme/edge-1": the subject CN, and how logs and the CLI name the identity.
  std::string common_name() const;
  // "spiffe://<trust-domain>/tenant/acme/connector/edge-1" (none for gateways).
  std::string spiffe_uri(std::string_view trust_domain) const;
};

// IDs are 1-63 characters of [a-z0-9-], not starting or ending with '-'. `what` names the field
// in the error ("tenant id"); the error quotes the bad value and the rule.
Status validate_id(std::string_view value, std::string_view what);
// A trust domain is a lowercase DNS name (SPIFFE ID spec, 2.1).
Status validate_trust_domain(std::string_view value);

// Reads the identity a certificate names: its CN must be one of the identity forms and, when
// `trust_domain` is given, its URI SAN must be the matching SPIFFE ID.
Result<Identity> identity_from_certificate(X509* cert,
                                           std::optional<std::string_view> trust_domain);

}  // namespace tether::verify

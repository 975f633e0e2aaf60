// What the API's handlers use besides the request: the CA, the CRL service, and what the
// embedded gateway knows of live connections. One per server, outliving every request.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pki/authority.h"
#include "pki/certificate_authority.h"
#include "pki/issuance_queue.h"
#include "pki/lifecycle.h"
#include "server/crl_service.h"
#include "server/router.h"

namespace tether::server::api {

using LiveConnections = std::unordered_map<std::string, uint64_t>;

struct Services {
  // Its issuers are loaded before the API starts, so handlers on any thread only read them.
  pki::CertificateAuthority& ca;
  const pki::Authority& connector_issuer;
  CrlService& crl;
  // Live connections per identity ("connector/acme/edge-1") at the embedded gateway now. Asks
  // every gateway worker, so a handler calls it once per request, not once per connector.
  std::function<LiveConnections()> connected_now;
  // Commits the API's issuances in batches; a handler's 201 comes after its batch's commit.
  pki::IssuanceQueue& issuance;
  // The OpenAPI document, served at /v1/openapi.json.
  std::string openapi_json;
};

std::vector<RouteSpec> public_routes(Services& services);
std::vector<RouteSpec> tenant_routes(Services& services);
std::vector<RouteSpec> connector_routes(Services& services);
std::vector<RouteSpec> certificate_routes(Services& services);
std::vector<RouteSpec> audit_routes(Services& services);
std::vector<RouteSpec> renew_routes(Services& services);

// Errc::forbidden unless the principal may act on `tenant`. The message names only the
// principal's own tenant: a tenant-admin learns nothing of another tenant, not even whether
// it exists.
Status require_tenant(const ApiContext& ctx, const std::string& tenant);
Status require_operator(const ApiContext& ctx);
// Prepares (checks and signs, on this thread) and records through the issuance queue, waiting
// for the batch's commit: the certificate is on disk when this returns. A serial collision
// found at commit (another issuance took the random serial first) is prepared again.
Result<pki::IssuedBundle> issue_through_queue(
    Services& services, const std::function<Result<pki::PreparedIssuance>()>& prepare);
// The audit actor and time of this request.
pki::Context actor_context(const ApiContext& ctx);

}  // namespace tether::server::api

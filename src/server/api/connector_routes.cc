// Connectors: create (server-generated key, or from a CSR), list, show, renew, revoke.
#include <boost/json.hpp>

#include "obs/log_sink.h"
#include "server/api/issuance_io.h"
#include "server/api/services.h"
#include "server/api/views.h"
#include "server/responses.h"
#include "x509/revocation_reason.h"

namespace tether::server::api {

namespace json = boost::json;

namespace {

// Names the input a lifecycle error is about, where the lifecycle could not know the field.
Error with_field(Error e, bool csr_mode) {
  if (!e.field.empty()) return e;
  // Only these codes are about one input; every other error names no field.
  if (e.code == Errc::bad_csr_signature || e.code == Errc::csr_identity_mismatch) {
    e.field = "body.csr";
  } else if (e.code == Errc::unsupported_key) {
    e.field = csr_mode ? "body.csr" : "body.key_type";
  } else if (e.code == Errc::already_exists) {
    e.field = "body.id";
  }
  return e;
}

Status valid_id(const std::string& value, std::string_view what, std::string field) {
  auto valid = verify::validate_id(value, what);
  if (valid) return valid;
  Error e = std::move(valid).error();
  e.field = std::move(field);
  return e;
}

// `current_not_after`, when given, gets the expiry of the certificate the status is about.
Result<json::object> connector_document(const LiveConnections& live, store::Store& store,
                                        const store::ConnectorRecord& connector, int64_t now,
                                        int64_t* current_not_after = nullptr) {
  store::CertificateFilter filter;
  filter.tenant_id = connector.tenant_id;
  filter.connector_id = connector.id;
  filter.kind = "connector";
  TETHER_ASSIGN_OR_RETURN(auto certs, store.list_certificates(filter));
  std::string identity = "connector/" + connector.tenant_id + "/" + connector.id;
  auto found = live.find(identity);
  int connections = found == live.end() ? 0 : static_cast<int>(found->second);
  const store::CertificateRecord* current = pki::certificate_to_replace(certs);
  if (current_not_after != nullptr) *current_not_after = current ? current->not_after : 0;
  return connector_view(connector, certs, current, now, connections);
}

LiveConnections live_now(Services& s) {
  return s.connected_now ? s.connected_now() : LiveConnections{};
}

Result<store::ConnectorRecord> find_connector(ApiContext& ctx) {
  const std::string& tenant = ctx.param("tenant");
  const std::string& id = ctx.param("id");
  TETHER_TRY(require_tenant(ctx, tenant));
  TETHER_TRY(valid_id(tenant, "tenant id", "tenant"));
  TETHER_TRY(valid_id(id, "connector id", "id"));
  TETHER_ASSIGN_OR_RETURN(auto found, ctx.store.find_connector(tenant, id));
  if (!found) {
    return make_field_error(Errc::not_found, "id",
                            "no connector '" + id + "' in tenant '" + tenant + "'");
  }
  return *found;
}

Result<Response> create(Services& s, ApiContext& ctx) {
  const std::string& tenant = ctx.param("tenant");
  TETHER_TRY(require_tenant(ctx, tenant));
  TETHER_TRY(valid_id(tenant, "tenant id", "tenant"));
  TETHER_ASSIGN_OR_RETURN(auto body, json_body(ctx.request));
  TETHER_TRY(only_members(body, {"id", "key_type", "days", "csr", "format", "p12_passphrase"}));
  TETHER_ASSIGN_OR_RETURN(std::string id, required_string(body, "id"));
  TETHER_TRY(valid_id(id, "connector id", "body.id"));
  TETHER_ASSIGN_OR_RETURN(auto options, read_issuance_options(ctx, body));
  TETHER_ASSIGN_OR_RETURN(bool tenant_known, ctx.store.tenant_exists(tenant));
  if (!tenant_known) {
    return make_field_error(Errc::not_found, "tenant", "no tenant '" + tenant + "'");
  }
  pki::IssueRequest request;
  request.tenant = tenant;
  request.connector = id;
  if (options.key_type) request.profile.key_type = *options.key_type;
  if (options.days) request.profile.days = *options.days;
  bool csr_mode = options.csr != nullptr;
  request.csr = std::move(options.csr);
  auto issued = issue_through_queue(s, [&] {
    return pki::prepare_create_connector(ctx.store, s.connector_issuer, actor_context(ctx),
                                         request);
  });
  if (!issued) return with_field(std::move(issued).error(), csr_mode);
  store::ConnectorRecord made{tenant, id, ctx.now};
  TETHER_ASSIGN_OR_RETURN(auto document, connector_document(live_now(s), ctx.store, made, ctx.now));
  json::object answer{{"connector", std::move(document)}};
  return issued_response(*issued, s.ca.root(), options, tenant + "-" + id, std::move(answer));
}

Result<Response> renew(Services& s, ApiContext& ctx) {
  TETHER_ASSIGN_OR_RETURN(auto connector, find_connector(ctx));
  TETHER_ASSIGN_OR_RETURN(auto body, json_body(ctx.request));
  TETHER_TRY(only_members(body, {"key_type", "days", "csr", "format", "p12_passphrase"}));
  TETHER_ASSIGN_OR_RETURN(auto options, read_issuance_options(ctx, body));
  pki::RenewRequest request;
  request.tenant = connector.tenant_id;
  request.connector = connector.id;
  request.key_type = options.key_type;
  request.days = options.days;
  bool csr_mode = options.csr != nullptr;
  request.csr = std::move(options.csr);
  auto issued = issue_through_queue(s, [&] {
    return pki::prepare_renew_connector(ctx.store, s.connector_issuer, actor_context(ctx), request);
  });
  if (!issued) return with_field(std::move(issued).error(), csr_mode);
  TETHER_ASSIGN_OR_RETURN(auto document,
                          connector_document(live_now(s), ctx.store, connector, ctx.now));
  json::object answer{{"connector", std::move(document)}};
  return issued_response(*issued, s.ca.root(), options, connector.tenant_id + "-" + connector.id,
                         std::move(answer));
}

Result<Response> revoke(Services& s, ApiContext& ctx) {
  TETHER_ASSIGN_OR_RETURN(auto connector, find_connector(ctx));
  TETHER_ASSIGN_OR_RETURN(auto body, json_body(ctx.request));
  TETHER_TRY(only_members(body, {"reason", "serial"}));
  TETHER_ASSIGN_OR_RETURN(auto reason_name, optional_string(body, "reason"));
  int reason = 0;
  if (reason_name) {
    auto parsed = x509::parse_revocation_reason(*reason_name);
    if (!parsed) {
      Error e = std::move(parsed).error();
      e.field = "body.reason";
      return e;
    }
    reason = *parsed;
  }
  TETHER_ASSIGN_OR_RETURN(auto serial_text, optional_string(body, "serial"));
  std::optional<std::string> serial;
  if (serial_text) {
    auto normal = pki::normalize_serial(*serial_text);
    if (!normal) {
      Error e = std::move(normal).error();
      e.field = "body.serial";
      return e;
    }
    serial = *normal;
  }
  TETHER_ASSIGN_OR_RETURN(auto revoked,
                          pki::revoke_connector(ctx.store, actor_context(ctx), connector.tenant_id,
                                                connector.id, serial, reason));
  // Relying parties that fetch the CRL see the revocation at once. The revocation is committed
  // whatever happens here; a CRL that could not be issued now is issued by the server's
  // housekeeping within a second (CrlService::refresh_if_stale), so it is logged, not answered.
  if (auto crl = s.crl.refresh(ctx.now, actor_context(ctx).actor); !crl) {
    obs::log_event("crl_refresh_failed", {{"error", crl.error().message}});
  }
  json::array serials;
  for (const auto& r : revoked) serials.push_back(json::value(r));
  TETHER_ASSIGN_OR_RETURN(auto document,
                          connector_document(live_now(s), ctx.store, connector, ctx.now));
  return json_response(http::status::ok,
                       json::object{{"revoked", serials}, {"connector", std::move(document)}});
}

// GET .../connectors: one page, ordered by id, after `cursor` (the last id of the previous
// page). Filters: status (active, expiring, expired, revoked, none), expiring_within_days, q
// (a substring of the id).
Result<Response> list(Services& s, ApiContext& ctx, std::optional<std::string> tenant) {
  if (tenant) {
    TETHER_TRY(require_tenant(ctx, *tenant));
    TETHER_TRY(valid_id(*tenant, "tenant id", "tenant"));
  } else if (!ctx.principal->is_operator()) {
    tenant = ctx.principal->tenant;
  }
  int64_t limit = 100;
  if (auto text = ctx.query("limit")) {
    char* end = nullptr;
    long long v = std::strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || v < 1 || v > 1000) {
      return make_field_error(Errc::invalid_argument, "limit",
                              "limit '" + *text + "' must be a whole number from 1 to 1000");
    }
    limit = v;
  }
  std::optional<std::string> status = ctx.query("status");
  if (status && *status != "active" && *status != "expiring" && *status != "expired" &&
      *status != "revoked" && *status != "none") {
    return make_field_error(
        Errc::invalid_argument, "status",
        "status '" + *status + "' is not one of active, expiring, expired, revoked, none");
  }
  std::optional<int64_t> within;
  if (auto text = ctx.query("expiring_within_days")) {
    char* end = nullptr;
    long long v = std::strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || v < 0 || v > 3650) {
      return make_field_error(
          Errc::invalid_argument, "expiring_within_days",
          "expiring_within_days '" + *text + "' must be a whole number of days from 0 to 3650");
    }
    within = v * pki::kSecondsPerDay;
  }
  std::string q = ctx.query("q").value_or("");
  std::string cursor = ctx.query("cursor").value_or("");

  TETHER_ASSIGN_OR_RETURN(auto connectors, ctx.store.list_connectors(tenant));
  std::sort(connectors.begin(), connectors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.tenant_id, a.id) < std::tie(b.tenant_id, b.id);
  });
  LiveConnections live = live_now(s);
  json::array items;
  std::string next;
  for (const auto& c : connectors) {
    std::string key = c.tenant_id + "/" + c.id;
    if (!cursor.empty() && key <= cursor) continue;
    if (!q.empty() && c.id.find(q) == std::string::npos) continue;
    int64_t current_not_after = 0;
    TETHER_ASSIGN_OR_RETURN(auto document,
                            connector_document(live, ctx.store, c, ctx.now, &current_not_after));
    if (status && document["status"].as_string() != *status) continue;
    if (within) {
      // The current certificate decides, as it does for the status: one that is revoked or
      // already expired is not "expiring".
      std::string_view now_status = document["status"].as_string();
      if (now_status != "active" && now_status != "expiring") continue;
      if (current_not_after - ctx.now > *within) continue;
    }
    if (static_cast<int64_t>(items.size()) == limit) {
      next = key;
      break;
    }
    items.push_back(std::move(document));
  }
  json::object page{{"items", std::move(items)}};
  page["next_cursor"] = next.empty() ? json::value(nullptr) : json::value(next);
  return json_response(http::status::ok, page);
}

}  // namespace

std::vector<RouteSpec> connector_routes(Services& s) {
  std::vector<RouteSpec> routes;
  routes.push_back({http::verb::post, "/v1/tenants/{tenant}/connectors", Access::authenticated,
                    [&s](ApiContext& ctx) { return create(s, ctx); }});
  routes.push_back({http::verb::get, "/v1/tenants/{tenant}/connectors", Access::authenticated,
                    [&s](ApiContext& ctx) { return list(s, ctx, ctx.param("tenant")); }});
  routes.push_back({http::verb::get, "/v1/connectors", Access::authenticated,
                    [&s](ApiContext& ctx) { return list(s, ctx, std::nullopt); }});
  routes.push_back({http::verb::get, "/v1/tenants/{tenant}/connectors/{id}", Access::authenticated,
                    [&s](ApiContext& ctx) -> Result<Response> {
                      TETHER_ASSIGN_OR_RETURN(auto connector, find_connector(ctx));
                      TETHER_ASSIGN_OR_RETURN(
                          auto document,
                          connector_document(live_now(s), ctx.store, connector, ctx.now));
                      return json_response(http::status::ok, document);
                    }});
  routes.push_back({http::verb::post, "/v1/tenants/{tenant}/connectors/{id}/renew",
                    Access::authenticated, [&s](ApiContext& ctx) { return renew(s, ctx); }});
  routes.push_back({http::verb::post, "/v1/tenants/{tenant}/connectors/{id}/revoke",
                    Access::authenticated, [&s](ApiContext& ctx) { return revoke(s, ctx); }});
  return routes;
}

}  // namespace tether::server::api

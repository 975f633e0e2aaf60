// Tenants: create and list (operators), show (their own tenant for a tenant-admin).
#include <boost/json.hpp>

#include "pki/lifecycle.h"
#include "server/api/services.h"
#include "server/api/views.h"
#include "server/responses.h"

namespace tether::server::api {

namespace json = boost::json;

std::vector<RouteSpec> tenant_routes(Services&) {
  std::vector<RouteSpec> routes;
  routes.push_back({http::verb::post, "/v1/tenants", Access::authenticated,
                    [](ApiContext& ctx) -> Result<Response> {
                      TETHER_TRY(require_operator(ctx));
                      TETHER_ASSIGN_OR_RETURN(auto body, json_body(ctx.request));
                      TETHER_TRY(only_members(body, {"id", "name"}));
                      TETHER_ASSIGN_OR_RETURN(auto id, required_string(body, "id"));
                      TETHER_ASSIGN_OR_RETURN(auto name, optional_string(body, "name"));
                      if (auto valid = verify::validate_id(id, "tenant id"); !valid) {
                        Error e = std::move(valid).error();
                        e.field = "body.id";
                        return e;
                      }
                      TETHER_TRY(
                          pki::create_tenant(ctx.store, actor_context(ctx), id, name.value_or(id)));
                      store::TenantRecord made{id, name.value_or(id), ctx.now};
                      return json_response(http::status::created, tenant_view(made));
                    }});
  routes.push_back({http::verb::get, "/v1/tenants", Access::authenticated,
                    [](ApiContext& ctx) -> Result<Response> {
                      TETHER_ASSIGN_OR_RETURN(auto tenants, ctx.store.list_tenants());
                      json::array items;
                      for (const auto& t : tenants) {
                        if (ctx.principal->can_access_tenant(t.id)) items.push_back(tenant_view(t));
                      }
                      return json_response(http::status::ok, json::object{{"items", items}});
                    }});
  routes.push_back({http::verb::get, "/v1/tenants/{tenant}", Access::authenticated,
                    [](ApiContext& ctx) -> Result<Response> {
                      const std::string& id = ctx.param("tenant");
                      TETHER_TRY(require_tenant(ctx, id));
                      TETHER_ASSIGN_OR_RETURN(auto tenants, ctx.store.list_tenants());
                      for (const auto& t : tenants) {
                        if (t.id == id) return json_response(http::status::ok, tenant_view(t));
                      }
                      return make_field_error(Errc::not_found, "tenant", "no tenant '" + id + "'");
                    }});
  return routes;
}

}  // namespace tether::server::api

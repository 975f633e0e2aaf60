// The audit log, newest first. A tenant-admin sees only the entries about its own tenant's
// connectors.
#include <boost/json.hpp>

#include "server/api/services.h"
#include "server/api/views.h"
#include "server/responses.h"

namespace tether::server::api {

namespace json = boost::json;

namespace {
bool about_tenant(const store::AuditEvent& e, const std::string& tenant) {
  return e.identity.rfind("connector/" + tenant + "/", 0) == 0;
}
}  // namespace

std::vector<RouteSpec> audit_routes(Services&) {
  std::vector<RouteSpec> routes;
  routes.push_back(
      {http::verb::get, "/v1/audit", Access::authenticated,
       [](ApiContext& ctx) -> Result<Response> {
         int limit = 100;
         if (auto text = ctx.query("limit")) {
           char* end = nullptr;
           long v = std::strtol(text->c_str(), &end, 10);
           if (text->empty() || *end != '\0' || v < 1 || v > 1000) {
             return make_field_error(Errc::invalid_argument, "limit",
                                     "limit '" + *text + "' must be a whole number from 1 to 1000");
           }
           limit = static_cast<int>(v);
         }
         std::optional<std::string> action = ctx.query("action");
         std::optional<std::string> actor = ctx.query("actor");
         TETHER_ASSIGN_OR_RETURN(auto events, ctx.store.list_audit(100000));
         json::array items;
         for (const auto& e : events) {
           if (!ctx.principal->is_operator() && !about_tenant(e, ctx.principal->tenant)) {
             continue;
           }
           if (action && e.action != *action) continue;
           if (actor && e.actor != *actor) continue;
           items.push_back(audit_view(e));
           if (static_cast<int>(items.size()) == limit) break;
         }
         return json_response(http::status::ok, json::object{{"items", items}});
       }});
  return routes;
}

}  // namespace tether::server::api

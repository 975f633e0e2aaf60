#include "server/api/services.h"

namespace tether::server::api {

Status require_tenant(const ApiContext& ctx, const std::string& tenant) {
  if (ctx.principal && ctx.principal->can_access_tenant(tenant)) return ok_status();
  std::string own = ctx.principal ? ctx.principal->tenant : "";
  return make_error(Errc::forbidden, "this credential may act only on tenant '" + own + "'");
}

Status require_operator(const ApiContext& ctx) {
  if (ctx.principal && ctx.principal->is_operator()) return ok_status();
  return make_error(Errc::forbidden, "only an operator may do this");
}

Result<pki::IssuedBundle> issue_through_queue(
    Services& services, const std::function<Result<pki::PreparedIssuance>()>& prepare) {
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    TETHER_ASSIGN_OR_RETURN(pki::PreparedIssuance prepared, prepare());
    Status recorded = services.issuance.submit(std::move(prepared.write)).get();
    if (recorded) return std::move(prepared.bundle);
    if (recorded.error().code != Errc::serial_collision || attempt == kAttempts) {
      return std::move(recorded).error();
    }
  }
}

pki::Context actor_context(const ApiContext& ctx) {
  return pki::Context{ctx.principal ? ctx.principal->actor : "anonymous", ctx.now};
}

}  // namespace tether::server::api

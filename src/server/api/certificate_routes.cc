// Certificates by serial: the detail (decoded from the certificate itself, beside what the
// store records) and the PEM.
#include <boost/json.hpp>

#include "pki/lifecycle.h"
#include "server/api/services.h"
#include "server/api/views.h"
#include "server/responses.h"
#include "x509/inspect.h"
#include "x509/pem.h"

namespace tether::server::api {

namespace json = boost::json;

namespace {

// The certificate a serial names, if this principal may see it. Certificates of other tenants,
// and (for a tenant-admin) of gateways, services and admins, are "not found": their serials are
// not a way to learn that they exist.
Result<store::CertificateRecord> visible_certificate(ApiContext& ctx) {
  auto serial = pki::normalize_serial(ctx.param("serial"));
  if (!serial) {
    Error e = std::move(serial).error();
    e.field = "serial";
    return e;
  }
  TETHER_ASSIGN_OR_RETURN(auto found, ctx.store.find_certificate_by_serial(*serial));
  bool visible =
      found && (ctx.principal->is_operator() ||
                (found->kind == "connector" && ctx.principal->can_access_tenant(found->tenant_id)));
  if (!visible) {
    return make_field_error(Errc::not_found, "serial", "no certificate with serial " + *serial);
  }
  return *found;
}

json::array strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.push_back(json::value(v));
  return out;
}

}  // namespace

std::vector<RouteSpec> certificate_routes(Services&) {
  std::vector<RouteSpec> routes;
  routes.push_back({http::verb::get, "/v1/certificates/{serial}", Access::authenticated,
                    [](ApiContext& ctx) -> Result<Response> {
                      TETHER_ASSIGN_OR_RETURN(auto record, visible_certificate(ctx));
                      json::object view = certificate_view(record, ctx.now);
                      TETHER_ASSIGN_OR_RETURN(auto cert, x509::parse_certificate(record.pem));
                      view["issuer"] = x509::issuer_string(cert.get());
                      view["subject_alt_names"] =
                          json::object{{"dns", strings(x509::dns_sans(cert.get()))},
                                       {"ip", strings(x509::ip_sans(cert.get()))},
                                       {"uri", strings(x509::uri_sans(cert.get()))}};
                      view["extended_key_usage"] = strings(x509::extended_key_usages(cert.get()));
                      view["public_key"] = x509::key_description(cert.get());
                      return json_response(http::status::ok, view);
                    }});
  routes.push_back({http::verb::get, "/v1/certificates/{serial}/pem", Access::authenticated,
                    [](ApiContext& ctx) -> Result<Response> {
                      TETHER_ASSIGN_OR_RETURN(auto record, visible_certificate(ctx));
                      return bytes_response(http::status::ok, record.pem, "application/x-pem-file");
                    }});
  return routes;
}

}  // namespace tether::server::api

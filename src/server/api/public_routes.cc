// What anyone may fetch: the trust anchor, the CRL and the API's description.
#include "server/api/services.h"
#include "server/responses.h"
#include "x509/pem.h"

namespace tether::server::api {

namespace {
Response cacheable(Response res, int seconds) {
  res.set(http::field::cache_control, "public, max-age=" + std::to_string(seconds));
  return res;
}
}  // namespace

std::vector<RouteSpec> public_routes(Services& s) {
  std::vector<RouteSpec> routes;
  routes.push_back(
      {http::verb::get, "/ca.pem", Access::public_access, [&s](ApiContext&) -> Result<Response> {
         return cacheable(
             bytes_response(http::status::ok, x509::to_pem(s.ca.root()), "application/x-pem-file"),
             3600);
       }});
  // A CRL is fetched often and changes on every revocation: a short cache lifetime keeps
  // revocations visible within a minute to clients that honour it.
  routes.push_back(
      {http::verb::get, "/crl", Access::public_access, [&s](ApiContext&) -> Result<Response> {
         return cacheable(
             bytes_response(http::status::ok, s.crl.current().der, "application/pkix-crl"), 60);
       }});
  routes.push_back(
      {http::verb::get, "/crl.pem", Access::public_access, [&s](ApiContext&) -> Result<Response> {
         return cacheable(
             bytes_response(http::status::ok, s.crl.current().pem, "application/x-pem-file"), 60);
       }});
  routes.push_back({http::verb::get, "/v1/openapi.json", Access::public_access,
                    [&s](ApiContext&) -> Result<Response> {
                      return bytes_response(http::status::ok, s.openapi_json, "application/json");
                    }});
  return routes;
}

}  // namespace tether::server::api

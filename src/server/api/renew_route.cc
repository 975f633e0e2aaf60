// POST /v1/renew: a connector renews itself, authenticated by the certificate it presents
// (mTLS), which must be its current one: unexpired (the handshake checked that) and not
// revoked (checked here against the store, so a revocation counts at once). The body is a CSR,
// PEM, as application/pkcs10 or as JSON {"csr": "..."}; the answer is the new certificate
// followed by its issuing CA, PEM. Audited as any renewal, with the connector as the actor.
#include <boost/json.hpp>

#include "pki/lifecycle.h"
#include "server/api/services.h"
#include "server/responses.h"
#include "x509/pem.h"

namespace tether::server::api {

namespace {

Result<std::string> csr_text(const Request& request) {
  std::string_view type = request[http::field::content_type];
  if (type.starts_with("application/pkcs10") || type.starts_with("application/x-pem-file")) {
    return request.body();
  }
  TETHER_ASSIGN_OR_RETURN(auto body, json_body(request));
  TETHER_TRY(only_members(body, {"csr"}));
  return required_string(body, "csr");
}

Result<Response> renew_self(Services& s, ApiContext& ctx) {
  const Peer& peer = ctx.peer;
  if (!peer.certificate_identity ||
      peer.certificate_identity->kind != verify::IdentityKind::connector) {
    return make_error(Errc::unauthenticated,
                      "POST /v1/renew needs the connector's current certificate as the TLS "
                      "client certificate");
  }
  const verify::Identity& who = *peer.certificate_identity;
  TETHER_ASSIGN_OR_RETURN(std::string serial, pki::normalize_serial(peer.certificate_serial));
  TETHER_ASSIGN_OR_RETURN(auto record, ctx.store.find_certificate_by_serial(serial));
  if (!record || record->fingerprint != peer.certificate_fingerprint) {
    return make_error(Errc::forbidden, "certificate " + peer.certificate_serial +
                                           " was not issued by this CA's store");
  }
  if (record->revoked_at) {
    return make_error(Errc::forbidden, "certificate " + record->serial +
                                           " is revoked: an operator must issue a new one");
  }
  if (record->not_after <= ctx.now) {
    return make_error(Errc::forbidden, "certificate " + record->serial + " has expired");
  }
  TETHER_ASSIGN_OR_RETURN(std::string text, csr_text(ctx.request));
  auto csr = x509::parse_csr(text);
  if (!csr) {
    Error e = std::move(csr).error();
    e.field = "csr";
    return e;
  }
  pki::RenewRequest request;
  request.tenant = who.tenant;
  request.connector = who.name;
  request.csr = std::move(csr).value();
  pki::Context actor{"connector:" + who.tenant + "/" + who.name, ctx.now};
  auto issued = issue_through_queue(s, [&] {
    return pki::prepare_renew_connector(ctx.store, s.connector_issuer, actor, request);
  });
  if (!issued) {
    Error e = std::move(issued).error();
    if (e.code == Errc::bad_csr_signature || e.code == Errc::csr_identity_mismatch ||
        e.code == Errc::unsupported_key) {
      e.field = "csr";
    }
    return e;
  }
  Response res =
      bytes_response(http::status::ok, issued->certificate.pem + x509::to_pem(issued->issuing),
                     "application/x-pem-file");
  res.set("X-Tether-Serial", issued->certificate.serial);
  return res;
}

}  // namespace

std::vector<RouteSpec> renew_routes(Services& s) {
  // Public as far as the API's credentials go: the client certificate is the credential, and
  // the handler checks it.
  return {{http::verb::post, "/v1/renew", Access::public_access,
           [&s](ApiContext& ctx) { return renew_self(s, ctx); }}};
}

}  // namespace tether::server::api

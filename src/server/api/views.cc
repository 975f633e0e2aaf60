#include "server/api/views.h"

#include <boost/json.hpp>

#include "common/time_format.h"
#include "pki/lifecycle.h"
#include "x509/revocation_reason.h"

namespace tether::server::api {

namespace json = boost::json;

namespace {
json::value time_or_null(const std::optional<int64_t>& at) {
  return at ? json::value(format_rfc3339(*at)) : json::value(nullptr);
}
}  // namespace

json::object tenant_view(const store::TenantRecord& tenant) {
  return {
      {"id", tenant.id}, {"name", tenant.name}, {"created_at", format_rfc3339(tenant.created_at)}};
}

json::object certificate_view(const store::CertificateRecord& c, int64_t now) {
  json::object o{
      {"serial", c.serial},
      {"kind", c.kind},
      {"identity", c.identity},
      {"subject", c.subject},
      {"key_type", c.key_type},
      {"not_before", format_rfc3339(c.not_before)},
      {"not_after", format_rfc3339(c.not_after)},
      {"status", pki::certificate_status(c, now)},
      {"sha256_fingerprint", c.fingerprint},
      {"issuer_sha256_fingerprint", c.issuer_fingerprint},
      {"csr_mode", c.csr_mode},
      {"issued_at", format_rfc3339(c.issued_at)},
      {"last_seen", time_or_null(c.last_presented_at)},
      {"revoked_at", time_or_null(c.revoked_at)},
      {"revocation_reason",
       c.revoked_at ? json::value(std::string(x509::revocation_reason_name(c.revocation_reason)))
                    : json::value(nullptr)},
  };
  if (!c.tenant_id.empty()) o["tenant"] = c.tenant_id;
  if (!c.connector_id.empty()) o["connector"] = c.connector_id;
  return o;
}

json::object connector_view(const store::ConnectorRecord& connector,
                            const std::vector<store::CertificateRecord>& certificates,
                            const store::CertificateRecord* current, int64_t now,
                            int connected_now) {
  json::array certs;
  const store::CertificateRecord* seen = nullptr;
  for (const auto& c : certificates) {
    certs.push_back(certificate_view(c, now));
    if (c.last_presented_at && (!seen || *c.last_presented_at > *seen->last_presented_at)) {
      seen = &c;
    }
  }
  json::object o{
      {"tenant", connector.tenant_id},
      {"id", connector.id},
      {"identity", "connector/" + connector.tenant_id + "/" + connector.id},
      {"created_at", format_rfc3339(connector.created_at)},
      {"status",
       current ? json::value(pki::certificate_status(*current, now)) : json::value("none")},
      {"not_after",
       current ? json::value(format_rfc3339(current->not_after)) : json::value(nullptr)},
      {"last_seen",
       seen ? json::value(format_rfc3339(*seen->last_presented_at)) : json::value(nullptr)},
      {"last_seen_serial", seen ? json::value(seen->serial) : json::value(nullptr)},
      {"connected", connected_now > 0},
      {"connections", connected_now},
      {"certificates", std::move(certs)},
  };
  return o;
}

json::object audit_view(const store::AuditEvent& e) {
  json::object o{{"at", format_rfc3339(e.at)}, {"actor", e.actor}, {"action", e.action}};
  if (!e.identity.empty()) o["identity"] = e.identity;
  if (!e.serial.empty()) o["serial"] = e.serial;
  if (!e.detail.empty()) {
    boost::system::error_code ec;
    json::value detail = json::parse(e.detail, ec);
    o["detail"] = ec ? json::value(e.detail) : std::move(detail);
  }
  return o;
}

}  // namespace tether::server::api

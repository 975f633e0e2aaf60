// How the API shows what the store holds: the JSON documents of its responses, one function per
// resource, so every endpoint that returns a certificate shows it the same way (and the OpenAPI
// document describes that one shape).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <vector>

#include "store/records.h"

namespace tether::server::api {

boost::json::object tenant_view(const store::TenantRecord& tenant);
boost::json::object certificate_view(const store::CertificateRecord& cert, int64_t now);
// A connector with its certificates and what the gateway saw of it. `current` (one of
// `certificates`, or null) is the certificate its status and expiry are about
// (pki::certificate_to_replace).
boost::json::object connector_view(const store::ConnectorRecord& connector,
                                   const std::vector<store::CertificateRecord>& certificates,
                                   const store::CertificateRecord* current, int64_t now,
                                   int connected_now);
boost::json::object audit_view(const store::AuditEvent& event);

}  // namespace tether::server::api

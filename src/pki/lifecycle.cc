#include "pki/lifecycle.h"

#include <boost/json.hpp>
#include <set>
#include <tuple>
#include <variant>

#include "common/hex.h"
#include "common/time_format.h"
#include "verify/identity.h"
#include "x509/inspect.h"
#include "x509/key.h"
#include "x509/pem.h"
#include "x509/revocation_reason.h"

namespace tether::pki {

namespace {

// A fresh 127-bit serial colliding is astronomically unlikely, but the store enforces
// uniqueness, so on a clash we simply draw again a few times.
constexpr int kSerialAttempts = 4;

store::AuditEvent audit(const Context& ctx, std::string action, const verify::Identity& identity,
                        std::string serial, std::string detail) {
  return store::AuditEvent{ctx.now,           ctx.actor,
                           std::move(action), identity.common_name(),
                           std::move(serial), std::move(detail)};
}

store::CertificateRecord record_for(const Authority& authority, const verify::Identity& identity,
                                    bool csr_mode, const IssuedCertificate& issued,
                                    const Context& ctx) {
  store::CertificateRecord rec;
  rec.serial = issued.serial;
  rec.kind = std::string(profile_for(identity.kind).name);
  rec.name = identity.name;
  if (identity.kind == verify::IdentityKind::connector) {
    rec.tenant_id = identity.tenant;
    rec.connector_id = identity.name;
  }
  rec.identity = identity.common_name();
  rec.subject = x509::subject_string(issued.cert.get());
  rec.key_type = issued.key_type;
  rec.not_before = issued.not_before;
  rec.not_after = issued.not_after;
  rec.fingerprint = issued.fingerprint;
  rec.pem = issued.pem;
  rec.issued_at = ctx.now;
  rec.csr_mode = csr_mode;
  rec.issuer_fingerprint = x509::fingerprint_sha256(authority.issuing());
  return rec;
}

std::string issue_detail(const IssuedCertificate& issued, bool csr_mode) {
  return boost::json::serialize(boost::json::object{
      {"fingerprint", issued.fingerprint},
      {"key_type", issued.key_type},
      {"not_after", format_rfc3339(issued.not_after)},
      {"csr_mode", csr_mode},
  });
}

Status validate_request(store::CertificateStore& store, const IssueRequest& request) {
  TETHER_TRY(verify::validate_id(request.tenant, "tenant id"));
  TETHER_TRY(verify::validate_id(request.connector, "connector id"));
  TETHER_ASSIGN_OR_RETURN(bool tenant_known, store.tenant_exists(request.tenant));
  if (!tenant_known) {
    return make_error(Errc::not_found, "tenant '" + request.tenant +
                                           "' does not exist: create it with 'tether tenant "
                                           "create " +
                                           request.tenant + "'");
  }
  return ok_status();
}

// The key a certificate is issued for: from a checked CSR (kept for its SubjectPublicKeyInfo),
// or freshly generated.
struct SubjectMaterial {
  x509::PkeyPtr key;
  X509_REQ* csr = nullptr;  // borrowed from the request

  x509::SubjectKey subject() const {
    return {key.get(), csr ? X509_REQ_get_X509_PUBKEY(csr) : nullptr};
  }
};

Result<SubjectMaterial> prepare_key(const Authority& authority, const LeafSubject& subject,
                                    const LeafProfile& profile, X509_REQ* csr) {
  SubjectMaterial material;
  if (csr != nullptr) {
    material.csr = csr;
    TETHER_ASSIGN_OR_RETURN(material.key, authority.check_csr(csr, subject));
    return material;
  }
  TETHER_ASSIGN_OR_RETURN(material.key, x509::generate_key(profile.key_type));
  return material;
}

// How an issuance is recorded: which of the store's writes carries it.
enum class Recording { new_connector, new_named, added };

// What validation settled for one issuance: the CA that signs, whom for, with which key and
// lifetime, and how the store records it. Signing (sign) follows from it alone.
struct Plan {
  const Authority* authority = nullptr;
  LeafSubject subject;
  LeafProfile profile;
  X509_REQ* csr = nullptr;  // borrowed from the request; null: a key is generated
  Recording recording = Recording::new_connector;
  std::string action;  // the audit event's
};

Result<PreparedIssuance> sign(const Plan& plan, const Context& ctx) {
  const Authority& authority = *plan.authority;
  TETHER_ASSIGN_OR_RETURN(SubjectMaterial material,
                          prepare_key(authority, plan.subject, plan.profile, plan.csr));
  IssuedBundle bundle;
  TETHER_ASSIGN_OR_RETURN(bundle.certificate, authority.issue(plan.subject, material.subject(),
                                                              plan.profile.days, ctx.now));
  const IssuedCertificate& issued = bundle.certificate;
  const verify::Identity& identity = plan.subject.identity;
  bool csr_mode = plan.csr != nullptr;
  store::CertificateRecord record = record_for(authority, identity, csr_mode, issued, ctx);
  store::AuditEvent event =
      audit(ctx, plan.action, identity, issued.serial, issue_detail(issued, csr_mode));
  // Only the public half came with a CSR; a generated key goes into the bundle.
  if (!material.csr) bundle.private_key = std::move(material.key);
  bundle.issuing = authority.issuing();
  switch (plan.recording) {
    case Recording::new_connector:
      return PreparedIssuance{
          std::move(bundle),
          store::NewConnector{
              {identity.tenant, identity.name, ctx.now}, std::move(record), std::move(event)}};
    case Recording::new_named:
      return PreparedIssuance{std::move(bundle),
                              store::NewNamedCertificate{std::move(record), std::move(event)}};
    case Recording::added:
      return PreparedIssuance{std::move(bundle),
                              store::AddedCertificate{std::move(record), std::move(event)}};
  }
  return make_error(Errc::invalid_argument, "unknown recording");  // not reached: -Wswitch
}

// The CLI's path: sign, then record at once; a serial clash signs again with a fresh serial.
Result<IssuedBundle> sign_and_record(store::CertificateStore& store, const Plan& plan,
                                     const Context& ctx) {
  for (int attempt = 1;; ++attempt) {
    TETHER_ASSIGN_OR_RETURN(PreparedIssuance prepared, sign(plan, ctx));
    Status recorded = store::record_issuance(store, prepared.write);
    if (recorded) return std::move(prepared.bundle);
    bool serial_clash = recorded.error().code == Errc::serial_collision;
    if (!serial_clash || attempt == kSerialAttempts) return std::move(recorded).error();
  }
}

Plan connector_plan(const Authority& authority, const std::string& tenant,
                    const std::string& connector, const LeafProfile& profile, X509_REQ* csr,
                    Recording recording, std::string action) {
  return Plan{&authority, LeafSubject{verify::Identity::connector(tenant, connector), {}},
              profile,    csr,
              recording,  std::move(action)};
}

verify::Identity named_identity(verify::IdentityKind kind, const std::string& name) {
  return verify::Identity{kind, "", name};
}

Status validate_named(verify::IdentityKind kind, const std::string& name) {
  if (kind == verify::IdentityKind::connector) {
    return make_error(Errc::invalid_argument,
                      "connectors belong to a tenant: use 'tether connector create'");
  }
  return verify::validate_id(name, std::string(profile_for(kind).name) + " name");
}

// A gateway's DNS and IP names as its newest unrevoked certificate carries them.
Result<ServerNames> current_server_names(const std::vector<store::CertificateRecord>& certs) {
  const store::CertificateRecord* newest = nullptr;
  for (const auto& c : certs) {
    if (c.revoked_at) continue;
    if (newest == nullptr || c.issued_at >= newest->issued_at) newest = &c;
  }
  if (newest == nullptr) newest = &certs.back();
  TETHER_ASSIGN_OR_RETURN(auto cert, x509::parse_certificate(newest->pem));
  return ServerNames::parse(x509::dns_sans(cert.get()), x509::ip_sans(cert.get()));
}

// The checks of each issuing operation, made before anything is signed.

Result<Plan> plan_create_connector(store::CertificateStore& store, const Authority& authority,
                                   const IssueRequest& request) {
  TETHER_TRY(validate_request(store, request));
  TETHER_ASSIGN_OR_RETURN(auto existing, store.find_connector(request.tenant, request.connector));
  if (existing) {
    return make_error(Errc::already_exists,
                      "connector '" + request.connector + "' already exists in tenant '" +
                          request.tenant + "': use 'tether connector renew' for a new certificate");
  }
  return connector_plan(authority, request.tenant, request.connector, request.profile,
                        request.csr.get(), Recording::new_connector, "connector.create");
}

Result<Plan> plan_renew_connector(store::CertificateStore& store, const Authority& authority,
                                  const RenewRequest& renewal) {
  TETHER_TRY(verify::validate_id(renewal.tenant, "tenant id"));
  TETHER_TRY(verify::validate_id(renewal.connector, "connector id"));
  TETHER_ASSIGN_OR_RETURN(bool tenant_known, store.tenant_exists(renewal.tenant));
  if (!tenant_known) {
    return make_error(Errc::not_found, "tenant '" + renewal.tenant +
                                           "' does not exist: create it with 'tether tenant "
                                           "create " +
                                           renewal.tenant + "'");
  }
  TETHER_ASSIGN_OR_RETURN(auto existing, store.find_connector(renewal.tenant, renewal.connector));
  if (!existing) {
    return make_error(Errc::not_found, "connector '" + renewal.connector +
                                           "' does not exist in tenant '" + renewal.tenant +
                                           "': create it with 'tether connector create'");
  }
  TETHER_ASSIGN_OR_RETURN(auto certs, store.list_certificates({renewal.tenant, renewal.connector}));
  const store::CertificateRecord* previous = certificate_to_replace(certs);
  std::string name = renewal.tenant + "/" + renewal.connector;
  // The connector made its own key: a key made here would be one it never asked for, and
  // would have to travel to it.
  if (previous != nullptr && previous->csr_mode && !renewal.csr) {
    return make_error(Errc::invalid_argument,
                      "connector '" + name + "' makes its own key (its certificate " +
                          previous->serial +
                          " was issued from a CSR): renew it with --csr FILE holding a new "
                          "request made on the connector");
  }
  LeafProfile profile;
  if (previous != nullptr) {
    TETHER_ASSIGN_OR_RETURN(profile.days, Days::of(lifetime_days(*previous)));
    // A CSR-mode record names the CSR's key type, which may not be one we generate; only a
    // generated key's type is carried over (a CSR brings its own key).
    if (auto kept = x509::parse_key_type(previous->key_type); kept && !renewal.csr) {
      profile.key_type = *kept;
    }
  }
  if (renewal.key_type) profile.key_type = *renewal.key_type;
  if (renewal.days) profile.days = *renewal.days;
  return connector_plan(authority, renewal.tenant, renewal.connector, profile, renewal.csr.get(),
                        Recording::added, "connector.renew");
}

Result<Plan> plan_issue_named(CertificateAuthority& ca, const Context& ctx,
                              const NamedIssueRequest& request) {
  TETHER_TRY(validate_named(request.kind, request.name));
  TETHER_ASSIGN_OR_RETURN(const Authority* authority, ca.issuer_for(request.kind, ctx));
  return Plan{authority,
              LeafSubject{named_identity(request.kind, request.name), request.names},
              request.profile,
              request.csr.get(),
              Recording::new_named,
              std::string(profile_for(request.kind).name) + ".issue"};
}

Result<Plan> plan_renew_named(store::CertificateStore& store, CertificateAuthority& ca,
                              const Context& ctx, const NamedIssueRequest& request) {
  TETHER_TRY(validate_named(request.kind, request.name));
  std::string kind(profile_for(request.kind).name);
  verify::Identity identity = named_identity(request.kind, request.name);
  store::CertificateFilter filter;
  filter.kind = kind;
  filter.name = request.name;
  TETHER_ASSIGN_OR_RETURN(auto existing, store.list_certificates(filter));
  if (existing.empty()) {
    return make_error(Errc::not_found, identity.common_name() +
                                           " has no certificate to renew: issue one with 'tether "
                                           "cert issue --kind " +
                                           kind + " --name " + request.name + "'");
  }
  ServerNames names = request.names;
  if (profile_for(request.kind).server_names && names.empty()) {
    TETHER_ASSIGN_OR_RETURN(names, current_server_names(existing));
  }
  TETHER_ASSIGN_OR_RETURN(const Authority* authority, ca.issuer_for(request.kind, ctx));
  return Plan{authority,        LeafSubject{identity, std::move(names)},
              request.profile,  request.csr.get(),
              Recording::added, kind + ".renew"};
}

}  // namespace

Status create_tenant(store::CertificateStore& store, const Context& ctx, const std::string& id,
                     const std::string& name) {
  TETHER_TRY(verify::validate_id(id, "tenant id"));
  if (name.size() > 200) {
    return make_error(Errc::invalid_argument, "tenant name is " + std::to_string(name.size()) +
                                                  " characters long: the limit is 200");
  }
  std::string display_name = name.empty() ? id : name;
  store::AuditEvent event{ctx.now,
                          ctx.actor,
                          "tenant.create",
                          "tenant/" + id,
                          "",
                          boost::json::serialize(boost::json::object{{"name", display_name}})};
  return store.create_tenant({id, display_name, ctx.now}, event);
}

Result<PreparedIssuance> prepare_create_connector(store::CertificateStore& store,
                                                  const Authority& authority, const Context& ctx,
                                                  const IssueRequest& request) {
  TETHER_ASSIGN_OR_RETURN(Plan plan, plan_create_connector(store, authority, request));
  return sign(plan, ctx);
}

Result<IssuedBundle> create_connector(store::CertificateStore& store, const Authority& authority,
                                      const Context& ctx, const IssueRequest& request) {
  TETHER_ASSIGN_OR_RETURN(Plan plan, plan_create_connector(store, authority, request));
  return sign_and_record(store, plan, ctx);
}

Result<std::vector<IssuedBundle>> create_connectors(store::CertificateStore& store,
                                                    const Authority& authority, const Context& ctx,
                                                    const std::vector<IssueRequest>& requests) {
  std::vector<Plan> plans;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& request : requests) {
    TETHER_TRY(validate_request(store, request));
    if (!seen.insert({request.tenant, request.connector}).second) {
      return make_error(Errc::already_exists, "connector '" + request.connector + "' of tenant '" +
                                                  request.tenant + "' appears twice in the batch");
    }
    plans.push_back(connector_plan(authority, request.tenant, request.connector, request.profile,
                                   request.csr.get(), Recording::new_connector,
                                   "connector.create"));
  }
  for (int attempt = 1;; ++attempt) {
    std::vector<IssuedBundle> bundles;
    std::vector<store::NewConnector> batch;
    for (const Plan& plan : plans) {
      TETHER_ASSIGN_OR_RETURN(PreparedIssuance prepared, sign(plan, ctx));
      batch.push_back(std::get<store::NewConnector>(std::move(prepared.write)));
      bundles.push_back(std::move(prepared.bundle));
    }
    Status recorded = store.create_connectors(batch);
    if (recorded) return bundles;
    if (recorded.error().code != Errc::serial_collision || attempt == kSerialAttempts) {
      return std::move(recorded).error();
    }
  }
}

const store::CertificateRecord* certificate_to_replace(
    const std::vector<store::CertificateRecord>& certs) {
  auto newer = [](const store::CertificateRecord* best, const store::CertificateRecord& c) {
    return best == nullptr ||
           std::tie(c.issued_at, c.not_after) >= std::tie(best->issued_at, best->not_after);
  };
  const store::CertificateRecord* best = nullptr;
  for (const auto& c : certs) {
    if (!c.revoked_at && newer(best, c)) best = &c;
  }
  if (best != nullptr) return best;
  for (const auto& c : certs) {
    if (newer(best, c)) best = &c;
  }
  return best;
}

int lifetime_days(const store::CertificateRecord& cert) {
  int64_t seconds = cert.not_after - cert.not_before;
  return static_cast<int>((seconds + kSecondsPerDay / 2) / kSecondsPerDay);
}

std::vector<const store::CertificateRecord*> usable_certificates(
    const std::vector<const store::CertificateRecord*>& certs, int64_t now) {
  std::vector<const store::CertificateRecord*> usable;
  for (const auto* c : certs) {
    if (!c->revoked_at && c->not_after > now) usable.push_back(c);
  }
  return usable;
}

Result<PreparedIssuance> prepare_renew_connector(store::CertificateStore& store,
                                                 const Authority& authority, const Context& ctx,
                                                 const RenewRequest& request) {
  TETHER_ASSIGN_OR_RETURN(Plan plan, plan_renew_connector(store, authority, request));
  return sign(plan, ctx);
}

Result<IssuedBundle> renew_connector(store::CertificateStore& store, const Authority& authority,
                                     const Context& ctx, RenewRequest request) {
  TETHER_ASSIGN_OR_RETURN(Plan plan, plan_renew_connector(store, authority, request));
  return sign_and_record(store, plan, ctx);
}

Result<std::vector<std::string>> revoke_connector(store::CertificateStore& store,
                                                  const Context& ctx, const std::string& tenant,
                                                  const std::string& connector,
                                                  const std::optional<std::string>& serial,
                                                  int reason) {
  TETHER_TRY(verify::validate_id(tenant, "tenant id"));
  TETHER_TRY(verify::validate_id(connector, "connector id"));
  TETHER_ASSIGN_OR_RETURN(auto existing, store.find_connector(tenant, connector));
  if (!existing) {
    return make_error(Errc::not_found,
                      "connector '" + connector + "' does not exist in tenant '" + tenant + "'");
  }
  verify::Identity identity = verify::Identity::connector(tenant, connector);
  store::AuditEvent event = audit(
      ctx, "certificate.revoke", identity, "",
      boost::json::serialize(
          boost::json::object{{"reason", std::string(x509::revocation_reason_name(reason))}}));
  return store.revoke(tenant, connector, serial, reason, ctx.now, event);
}

Result<PreparedIssuance> prepare_issue_named(CertificateAuthority& ca, const Context& ctx,
                                             const NamedIssueRequest& request) {
  TETHER_ASSIGN_OR_RETURN(Plan plan, plan_issue_named(ca, ctx, request));
  return sign(plan, ctx);
}

Result<IssuedBundle> issue_named(store::CertificateStore& store, CertificateAuthority& ca,
                                 const Context& ctx, NamedIssueRequest request) {
  TETHER_ASSIGN_OR_RETURN(Plan plan, plan_issue_named(ca, ctx, request));
  return sign_and_record(store, plan, ctx);
}

Result<PreparedIssuance> prepare_renew_named(store::CertificateStore& store,
                                             CertificateAuthority& ca, const Context& ctx,
                                             const NamedIssueRequest& request) {
  TETHER_ASSIGN_OR_RETURN(Plan plan, plan_renew_named(store, ca, ctx, request));
  return sign(plan, ctx);
}

Result<IssuedBundle> renew_named(store::CertificateStore& store, CertificateAuthority& ca,
                                 const Context& ctx, NamedIssueRequest request) {
  TETHER_ASSIGN_OR_RETURN(Plan plan, plan_renew_named(store, ca, ctx, request));
  return sign_and_record(store, plan, ctx);
}

Result<std::vector<std::string>> revoke_named(store::CertificateStore& store, const Context& ctx,
                                              verify::IdentityKind kind, const std::string& name,
                                              const std::optional<std::string>& serial,
                                              int reason) {
  TETHER_TRY(validate_named(kind, name));
  verify::Identity identity = named_identity(kind, name);
  store::AuditEvent event = audit(
      ctx, "certificate.revoke", identity, "",
      boost::json::serialize(
          boost::json::object{{"reason", std::string(x509::revocation_reason_name(reason))}}));
  return store.revoke_named(std::string(profile_for(kind).name), name, serial, reason, ctx.now,
                            event);
}

Result<x509::X509CrlPtr> issue_crl(store::CertificateStore& store, const Authority& authority,
                                   const Context& ctx, int64_t validity_seconds) {
  if (validity_seconds < kMinCrlValiditySeconds || validity_seconds > kMaxCrlValiditySeconds) {
    return make_error(Errc::invalid_argument, "CRL validity of " +
                                                  std::to_string(validity_seconds) +
                                                  " seconds is out of range: use 1h to 366d");
  }
  store::AuditEvent event{ctx.now, ctx.actor, "crl.issue", "", "", ""};
  TETHER_ASSIGN_OR_RETURN(auto snapshot, store.next_crl(event));
  x509::CrlSpec spec;
  spec.this_update = ctx.now;
  spec.next_update = ctx.now + validity_seconds;
  spec.crl_number = snapshot.crl_number;
  for (const auto& cert : snapshot.revoked) {
    // A CRL speaks only for its issuer's certificates (RFC 5280 5: the CRL's scope).
    auto kind = parse_kind(cert.kind);
    if (!kind || profile_for(*kind).issuer != authority.role()) continue;
    spec.entries.push_back(
        {cert.serial, cert.revoked_at.value_or(ctx.now), cert.revocation_reason});
  }
  return authority.sign_crl(spec);
}

std::string certificate_status(const store::CertificateRecord& cert, int64_t now) {
  if (cert.revoked_at) return "revoked";
  if (cert.not_after <= now) return "expired";
  if (cert.not_after - now <= kExpiringWindowSeconds) return "expiring";
  return "active";
}

Result<std::string> normalize_serial(std::string_view text) {
  std::string digits;
  std::string_view s = text;
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  for (char c : s) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return make_error(Errc::invalid_argument, "serial '" + std::string(text) +
                                                    "' is not hexadecimal: copy it from "
                                                    "'tether connector show'");
    }
    digits += c;
  }
  std::string hex = hex::canonical_integer(digits);
  if (hex.size() > 40) {
    return make_error(Errc::invalid_argument, "serial '" + std::string(text) +
                                                  "' is longer than 20 octets (RFC 5280 4.1.2.2)");
  }
  return hex;
}

}  // namespace tether::pki

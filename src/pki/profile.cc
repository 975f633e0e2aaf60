#include "pki/profile.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "common/quote.h"
#include "verify/name_rules.h"

namespace tether::pki {

namespace {

using verify::IdentityKind;

// The table every kind-dependent decision reads: one row per identity kind.
constexpr std::array<KindProfile, 4> kProfiles = {{
    {IdentityKind::connector, "connector", IssuerRole::connector_ca, "clientAuth", true, false,
     x509::KeyType::rsa2048},
    {IdentityKind::service, "service", IssuerRole::connector_ca, "clientAuth", true, false,
     x509::KeyType::rsa2048},
    {IdentityKind::admin, "admin", IssuerRole::connector_ca, "clientAuth", true, false,
     x509::KeyType::rsa2048},
    {IdentityKind::gateway, "gateway", IssuerRole::server_ca, "serverAuth", false, true,
     x509::KeyType::ecdsa_p256},
}};

x509::CertificateSpec leaf_base(std::string common_name, int64_t now, Days days, bool rsa_key) {
  x509::CertificateSpec spec;
  spec.subject = {{"CN", std::move(common_name)}};
  spec.not_before = now - kBackdateSeconds;
  spec.not_after = spec.not_before + days.count() * kSecondsPerDay;
  spec.key_usage = rsa_key ? "digitalSignature,keyEncipherment" : "digitalSignature";
  return spec;
}

// An address in the form OpenSSL's "IP:" subjectAltName syntax reads, canonical (inet_ntop).
Result<std::string> canonical_ip(const std::string& text) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, text.c_str(), buf) == 1) {
    return std::string(::inet_ntop(AF_INET, buf, out, sizeof out));
  }
  if (::inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    return std::string(::inet_ntop(AF_INET6, buf, out, sizeof out));
  }
  return make_error(Errc::invalid_argument,
                    "--ip " + quote_value(text, '\'') +
                        " is not an IP address: use IPv4 (127.0.0.1) or IPv6 (::1) form; put "
                        "host names in --dns");
}

}  // namespace

Result<Days> Days::of(int days) {
  if (days < 1 || days > kMaxLeafDays) {
    return make_error(Errc::invalid_argument, "--days " + std::to_string(days) +
                                                  " is out of range: use 1 to " +
                                                  std::to_string(kMaxLeafDays) + " days");
  }
  return Days(days);
}

std::string_view issuer_common_name(IssuerRole role) {
  return role == IssuerRole::server_ca ? kServerCaCommonName : kIssuingCommonName;
}

const KindProfile& profile_for(verify::IdentityKind kind) {
  for (const auto& p : kProfiles) {
    if (p.kind == kind) return p;
  }
  return kProfiles.front();  // unreachable: the table has every kind
}

Result<verify::IdentityKind> parse_kind(std::string_view text) {
  for (const auto& p : kProfiles) {
    if (p.name == text) return p.kind;
  }
  return make_error(Errc::invalid_argument,
                    "--kind " + quote_value(text, '\'') +
                        " is not a certificate kind: use gateway, service, admin or connector");
}

Result<verify::IdentityKind> parse_named_kind(std::string_view text) {
  auto kind = parse_kind(text);
  if (!kind || *kind == verify::IdentityKind::connector) {
    return make_error(Errc::invalid_argument,
                      "--kind " + quote_value(text, '\'') +
                          " is not one of gateway, service or admin" +
                          (kind ? ": connectors belong to a tenant; use 'tether connector'" : ""));
  }
  return kind;
}

Result<ServerNames> ServerNames::parse(const std::vector<std::string>& dns,
                                       const std::vector<std::string>& ips) {
  ServerNames names;
  for (const auto& name : dns) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!verify::is_valid_dns_san(lower)) {
      return make_error(Errc::invalid_argument,
                        "--dns " + quote_value(name, '\'') +
                            " is not a host name: labels of a-z, 0-9 and '-' (1-63 "
                            "characters, 253 in all), '*' only as the whole first label; put "
                            "addresses in --ip");
    }
    if (std::find(names.dns.begin(), names.dns.end(), lower) == names.dns.end())
      names.dns.push_back(lower);
  }
  for (const auto& ip : ips) {
    TETHER_ASSIGN_OR_RETURN(std::string canonical, canonical_ip(ip));
    if (std::find(names.ips.begin(), names.ips.end(), canonical) == names.ips.end())
      names.ips.push_back(canonical);
  }
  return names;
}

x509::CertificateSpec root_spec(int64_t now) {
  x509::CertificateSpec spec;
  spec.subject = {{"O", "tether"}, {"CN", kRootCommonName}};
  spec.not_before = now - kBackdateSeconds;
  spec.not_after = spec.not_before + kRootDays * kSecondsPerDay;
  spec.is_ca = true;
  spec.path_len = 1;
  spec.key_usage = "keyCertSign,cRLSign";
  return spec;
}

x509::CertificateSpec issuing_spec(IssuerRole role, int64_t now) {
  x509::CertificateSpec spec;
  spec.subject = {{"O", "tether"}, {"CN", std::string(issuer_common_name(role))}};
  spec.not_before = now - kBackdateSeconds;
  spec.not_after = spec.not_before + kIntermediateDays * kSecondsPerDay;
  spec.is_ca = true;
  spec.path_len = 0;
  spec.key_usage = "digitalSignature,keyCertSign,cRLSign";
  return spec;
}

x509::CertificateSpec leaf_spec(const LeafSubject& subject, std::string_view trust_domain,
                                int64_t now, Days days, bool rsa_key) {
  const KindProfile& profile = profile_for(subject.identity.kind);
  auto spec = leaf_base(subject.identity.common_name(), now, days, rsa_key);
  if (profile.spiffe_uri) spec.uri_sans = {subject.identity.spiffe_uri(trust_domain)};
  if (profile.server_names) {
    spec.dns_sans = subject.names.dns;
    spec.ip_sans = subject.names.ips;
  }
  spec.extended_key_usage = std::string(profile.extended_key_usage);
  return spec;
}

x509::CertificateSpec client_leaf_spec(const verify::Identity& identity,
                                       std::string_view trust_domain, int64_t now, Days days,
                                       bool rsa_key) {
  return leaf_spec(LeafSubject{identity, {}}, trust_domain, now, days, rsa_key);
}

}  // namespace tether::pki

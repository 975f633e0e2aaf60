// Certificate profiles as data: what each kind of certificate carries, which CA issues it, and
// the validated inputs (validity in days, server names) issuance takes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "verify/identity.h"
#include "x509/build.h"
#include "x509/key.h"

namespace tether::pki {

constexpr int64_t kSecondsPerDay = 86400;
// Leaves are backdated by this much so a peer whose clock runs a little behind ours does not
// see a certificate that is not yet valid. The validity period stays exactly `days` long.
constexpr int64_t kBackdateSeconds = 60;
constexpr int kDefaultLeafDays = 365;
constexpr int kMaxLeafDays = 825;
constexpr int kRootDays = 3650;
constexpr int kIntermediateDays = 1825;
constexpr int64_t kExpiringWindowSeconds = 30 * kSecondsPerDay;
// How long a CRL stays current (thisUpdate to nextUpdate).
constexpr int64_t kMinCrlValiditySeconds = 3600;
constexpr int64_t kMaxCrlValiditySeconds = 366 * kSecondsPerDay;

inline constexpr const char* kRootCommonName = "tether Root CA";
inline constexpr const char* kIssuingCommonName = "tether Connector CA";
inline constexpr const char* kServerCaCommonName = "tether Server CA";

// A leaf's validity in days, checked once where it enters (1 to kMaxLeafDays); whatever holds a
// Days holds a valid one.
class Days {
 public:
  static Result<Days> of(int days);
  int count() const { return days_; }

 private:
  explicit Days(int days) : days_(days) {}
  int days_;
};

struct LeafProfile {
  x509::KeyType key_type = x509::KeyType::rsa2048;
  Days days = Days::of(kDefaultLeafDays).value();
};

// The two issuing intermediates under the one root. Client certificates come only from the
// Connector CA and server certificates only from the Server CA, so a gateway that trusts the
// Connector CA for clients never accepts a server certificate as a client one.
enum class IssuerRole { connector_ca, server_ca };
std::string_view issuer_common_name(IssuerRole role);

// What a certificate of one identity kind carries: the CA that issues it, its one extended key
// usage, and whether it names a SPIFFE URI (clients) or DNS/IP names (servers).
struct KindProfile {
  verify::IdentityKind kind;
  std::string_view name;  // "connector", "gateway", ... as the CLI and the store spell it
  IssuerRole issuer;
  std::string_view extended_key_usage;  // exactly one purpose
  bool spiffe_uri;                      // URI SAN spiffe://<td>/...
  bool server_names;                    // DNS / IP SANs, at least one
  x509::KeyType default_key_type;
};

const KindProfile& profile_for(verify::IdentityKind kind);
// Kinds `tether cert issue` makes: gateway, service or admin (connectors have their own
// commands, since they belong to a tenant).
Result<verify::IdentityKind> parse_named_kind(std::string_view text);
// Any kind, connector included (for filters such as `cert list --kind`).
Result<verify::IdentityKind> parse_kind(std::string_view text);

// The DNS names and IP addresses a server certificate is for, each checked once: DNS names as a
// subjectAltName dNSName may carry them (RFC 5280 4.2.1.6), addresses in IPv4 or IPv6 form,
// kept in canonical form; duplicates dropped.
struct ServerNames {
  std::vector<std::string> dns;
  std::vector<std::string> ips;

  static Result<ServerNames> parse(const std::vector<std::string>& dns,
                                   const std::vector<std::string>& ips);
  bool empty() const { return dns.empty() && ips.empty(); }
};

// What a leaf names: the identity and, for server certificates, the names it serves.
struct LeafSubject {
  verify::Identity identity;
  ServerNames names;
};

x509::CertificateSpec root_spec(int64_t now);
// An issuing intermediate: pathLenConstraint 0, so it can only sign leaves.
x509::CertificateSpec issuing_spec(IssuerRole role, int64_t now);
inline x509::CertificateSpec issuing_spec(int64_t now) {
  return issuing_spec(IssuerRole::connector_ca, now);
}
// A leaf of the subject's kind: CN from the identity (never from a CSR), the URI SAN for client
// kinds, DNS/IP SANs for servers, one EKU. keyEncipherment only for RSA keys (RFC 5480 3: not
// for ECDSA).
x509::CertificateSpec leaf_spec(const LeafSubject& subject, std::string_view trust_domain,
                                int64_t now, Days days, bool rsa_key);
// Connector / service / admin client certificates: EKU clientAuth only.
x509::CertificateSpec client_leaf_spec(const verify::Identity& identity,
                                       std::string_view trust_domain, int64_t now, Days days,
                                       bool rsa_key);

}  // namespace tether::pki

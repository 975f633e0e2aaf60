// Certificate profiles as data (the default connector profile: RSA-2048, 365 days, clientAuth).
#pragma once

#include <cstdint>
#include <string>

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

struct LeafProfile {
  x509::KeyType key_type = x509::KeyType::rsa2048;
  int days = kDefaultLeafDays;
};

x509::CertificateSpec root_spec(int64_t now);
// The issuing intermediate: pathLenConstraint 0, so it can only sign leaves.
x509::CertificateSpec issuing_spec(int64_t now);
// Connector / service / admin client certificates: EKU clientAuth only, CN and URI SAN from the
// identity (never from a CSR).
// keyEncipherment only for RSA keys (RFC 5480 3: not for ECDSA).
x509::CertificateSpec client_leaf_spec(const verify::Identity& identity,
                                       std::string_view trust_domain, int64_t now, int days,
                                       bool rsa_key);

Status validate_days(int days);

}  // namespace tether::pki

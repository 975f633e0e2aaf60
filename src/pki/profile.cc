#include "pki/profile.h"

namespace tether::pki {

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

x509::CertificateSpec issuing_spec(int64_t now) {
  x509::CertificateSpec spec;
  spec.subject = {{"O", "tether"}, {"CN", kIssuingCommonName}};
  spec.not_before = now - kBackdateSeconds;
  spec.not_after = spec.not_before + kIntermediateDays * kSecondsPerDay;
  spec.is_ca = true;
  spec.path_len = 0;
  spec.key_usage = "digitalSignature,keyCertSign,cRLSign";
  return spec;
}

x509::CertificateSpec client_leaf_spec(const verify::Identity& identity,
                                       std::string_view trust_domain, int64_t now, int days,
                                       bool rsa_key) {
  x509::CertificateSpec spec;
  spec.subject = {{"CN", identity.common_name()}};
  spec.uri_sans = {identity.spiffe_uri(trust_domain)};
  spec.not_before = now - kBackdateSeconds;
  spec.not_after = spec.not_before + days * kSecondsPerDay;
  spec.key_usage = rsa_key ? "digitalSignature,keyEncipherment" : "digitalSignature";
  spec.extended_key_usage = "clientAuth";
  return spec;
}

Status validate_days(int days) {
  if (days < 1 || days > kMaxLeafDays) {
    return make_error(Errc::invalid_argument, "--days " + std::to_string(days) +
                                                  " is out of range: use 1 to " +
                                                  std::to_string(kMaxLeafDays) + " days");
  }
  return ok_status();
}

}  // namespace tether::pki

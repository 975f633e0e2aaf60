// Building and signing certificates, CSRs and CRLs from plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::x509 {

// Everything that goes into a certificate besides keys and serial. Profiles in pki/ produce
// these; the builder only turns them into DER.
struct CertificateSpec {
  // Subject attributes in order, e.g. {{"O", "tether"}, {"CN", "tether Root CA"}}.
  std::vector<std::pair<std::string, std::string>> subject;
  std::vector<std::string> uri_sans;
  std::vector<std::string> dns_sans;
  std::vector<std::string> ip_sans;
  int64_t not_before = 0;
  int64_t not_after = 0;
  bool is_ca = false;
  std::optional<int> path_len;  // only for CAs
  // OpenSSL config names, e.g. "digitalSignature,keyEncipherment" / "keyCertSign,cRLSign".
  std::string key_usage;
  // e.g. "clientAuth"; empty = no EKU extension.
  std::string extended_key_usage;
};

// The digest tether signs with for a given signing key: SHA-384 for P-384, SHA-256 otherwise.
const EVP_MD* signing_digest(EVP_PKEY* signing_key);

// The key a certificate is issued for. When the SubjectPublicKeyInfo is at hand already (from a
// CSR) it is copied as it is: re-encoding an EVP_PKEY goes through OpenSSL 3.0's provider
// encoders and costs more than an RSA-2048 signature (see bench/RESULTS.md).
struct SubjectKey {
  SubjectKey(EVP_PKEY* k, const X509_PUBKEY* s = nullptr)  // NOLINT(google-explicit-constructor)
      : key(k), spki(s) {}
  EVP_PKEY* key;
  const X509_PUBKEY* spki;
};

// Issues a certificate for `subject_key`. With issuer == nullptr it is self-signed by
// `signing_key` (which must then be the subject key's private half).
Result<X509Ptr> build_certificate(const CertificateSpec& spec, SubjectKey subject_key,
                                  const ASN1_INTEGER* serial, X509* issuer, EVP_PKEY* signing_key);

Result<X509NamePtr> build_name(const std::vector<std::pair<std::string, std::string>>& attrs);

// A PKCS#10 request signed by `key` (used by tests, benchmarks and connectors).
Result<X509ReqPtr> build_csr(EVP_PKEY* key, const std::string& common_name);

struct CrlEntry {
  std::string serial_hex;
  int64_t revoked_at = 0;
  int reason = 0;  // RFC 5280 5.3.1 CRLReason; 0 (unspecified) is omitted from the entry
};

struct CrlSpec {
  int64_t this_update = 0;
  int64_t next_update = 0;
  uint64_t crl_number = 0;
  std::vector<CrlEntry> entries;
};

// A v2 CRL signed by the issuing CA, with crlNumber and authorityKeyIdentifier (RFC 5280 5.2).
Result<X509CrlPtr> build_crl(const CrlSpec& spec, X509* issuer, EVP_PKEY* signing_key);

}  // namespace tether::x509

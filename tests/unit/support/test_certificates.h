// Certificates made in memory for unit tests: a CA and leaves under it, ECDSA P-256 keys, valid
// from 2023 to 2096 unless a test says otherwise. Built with tether's own x509 builder, so they
// carry what tether issues (AKI/SKI, random serials) and a test changes one thing at a time.
#pragma once

#include <string>
#include <utility>

#include "x509/build.h"
#include "x509/inspect.h"
#include "x509/key.h"

namespace tether::testing {

constexpr int64_t kLongAgo = 1700000000;   // 2023-11-14
constexpr int64_t kFarAhead = 4000000000;  // 2096

struct Issued {
  x509::PkeyPtr key;
  x509::X509Ptr cert;
};

// Issues `spec` for a new key, signed by `issuer` (self-signed when null).
inline Issued issue(const x509::CertificateSpec& spec, const Issued* issuer) {
  Issued out{std::move(x509::generate_key(x509::KeyType::ecdsa_p256)).value(), nullptr};
  auto serial = x509::random_serial();
  out.cert = std::move(x509::build_certificate(spec, out.key.get(), serial->get(),
                                               issuer ? issuer->cert.get() : nullptr,
                                               issuer ? issuer->key.get() : out.key.get()))
                 .value();
  return out;
}

// A CA certificate's spec; `eku` empty: no extendedKeyUsage (any usage).
inline x509::CertificateSpec ca_spec(const std::string& cn, std::string eku = "") {
  x509::CertificateSpec spec;
  spec.subject = {{"CN", cn}};
  spec.not_before = kLongAgo;
  spec.not_after = kFarAhead;
  spec.is_ca = true;
  spec.key_usage = "keyCertSign,cRLSign";
  spec.extended_key_usage = std::move(eku);
  return spec;
}

inline Issued make_ca(const std::string& cn) {
  return issue(ca_spec(cn), nullptr);
}

// A connector certificate's spec as tether issues it: connector/acme/edge-1 with its SPIFFE URI.
inline x509::CertificateSpec connector_spec(std::string eku = "clientAuth",
                                            int64_t not_after = kFarAhead) {
  x509::CertificateSpec spec;
  spec.subject = {{"CN", "connector/acme/edge-1"}};
  spec.uri_sans = {"spiffe://tether.internal/tenant/acme/connector/edge-1"};
  spec.not_before = kLongAgo;
  spec.not_after = not_after;
  spec.key_usage = "digitalSignature";
  spec.extended_key_usage = std::move(eku);
  return spec;
}

}  // namespace tether::testing

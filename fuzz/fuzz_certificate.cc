// Certificate parsing, PEM and DER (x509::parse_certificate, x509::parse_certificates,
// x509::parse_certificate_der), then every inspection tether makes of a parsed certificate.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"

using namespace tether;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = fuzz::as_view(data, size);
  bool pem = x509::looks_like_pem(bytes);

  auto all = x509::parse_certificates(bytes);
  if (all) {
    fuzz::require(!all->empty(), "parse_certificates succeeds with at least one certificate");
    for (const auto& cert : *all) fuzz::exercise_certificate(cert.get());
  }

  auto one = x509::parse_certificate(bytes);
  if (one) {
    X509* cert = one->get();
    fuzz::exercise_certificate(cert);
    // For DER input the two entry points decode the same bytes, so they must agree.
    if (!pem) fuzz::require(all.ok() && all->size() == 1, "DER: parse_certificates agrees");
    // The re-encoding parses again to the same certificate. It is not always byte-equal to a DER
    // input: OpenSSL clears a BIT STRING's declared unused bits when it decodes the signature.
    // DER that happens to contain "-----BEGIN " must still be read as DER.
    std::string der = x509::to_der(cert);
    auto again = x509::parse_certificate(der);
    fuzz::require(again.ok() && x509::to_der(again->get()) == der,
                  "a parsed certificate re-parses from its DER");
  }
  // The DER-only entry point (for PEM block payloads) accepts exactly what the detecting one
  // accepts as DER.
  auto der_only = x509::parse_certificate_der(bytes, "certificate");
  if (!pem) fuzz::require(der_only.ok() == one.ok(), "DER: parse_certificate_der agrees");
  if (der_only) fuzz::exercise_certificate(der_only->get());
  fuzz::end_input();
  return 0;
}

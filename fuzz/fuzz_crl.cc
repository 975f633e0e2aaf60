// CRL parsing, PEM and DER (x509::parse_crl, x509::parse_crls), then the fields tether reads from
// a CRL.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"

using namespace tether;

namespace {

void exercise_crl(X509_CRL* crl) {
  (void)x509::name_to_string(X509_CRL_get_issuer(crl));
  (void)x509::asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl));
  (void)x509::asn1_time_to_unix(X509_CRL_get0_nextUpdate(crl));  // optional: may be null
  x509::Asn1IntegerPtr number(
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, nullptr, nullptr)));
  if (number) fuzz::require_canonical_serial(x509::serial_hex(number.get()));
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    fuzz::require_canonical_serial(x509::serial_hex(X509_REVOKED_get0_serialNumber(entry)));
    (void)x509::asn1_time_to_unix(X509_REVOKED_get0_revocationDate(entry));
  }
  // Re-encoding is stable. (Not always equal to a DER input: OpenSSL clears a BIT STRING's
  // declared unused bits when it decodes the signature, so those inputs re-encode differently.)
  std::string der = x509::to_der(crl);
  auto again = x509::parse_crl(der);
  fuzz::require(again.ok() && x509::to_der(again->get()) == der, "a CRL re-encodes stably");
  (void)x509::to_pem(crl);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = fuzz::as_view(data, size);
  auto one = x509::parse_crl(bytes);
  if (one) exercise_crl(one->get());
  auto all = x509::parse_crls(bytes);
  if (all) {
    fuzz::require(!all->empty(), "parse_crls succeeds with at least one CRL");
    for (const auto& crl : *all) exercise_crl(crl.get());
  }
  // For DER input both entry points decode the same bytes, so they must agree.
  if (!x509::looks_like_pem(bytes)) {
    fuzz::require(one.ok() == all.ok(), "DER: parse_crl and parse_crls agree");
  }
  fuzz::end_input();
  return 0;
}

// CSR parsing (x509::parse_csr) and everything CSR-mode issuance does with an untrusted request:
// the reads that happen whether or not its signature verifies, Authority::check_csr (proof of
// possession, key type, identity claims), and issuing for a request that passes.
#include <cstddef>
#include <cstdint>
#include <ctime>

#include "fuzz_common.h"
#include "pki/authority.h"
#include "pki/profile.h"
#include "x509/key.h"

using namespace tether;

namespace {

constexpr const char* kTrustDomain = "tether.internal";

template <class T>
T value_or_die(Result<T> result, const char* what) {
  fuzz::require(result.ok(), what);
  return std::move(result).value();
}

// A throwaway CA (ECDSA P-256: cheap to make and to sign with), generated once per process and
// never written anywhere.
struct TestCa {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  pki::Authority authority = make(now);

  static pki::Authority make(int64_t now) {
    auto root_key = value_or_die(x509::generate_key(x509::KeyType::ecdsa_p256), "root key");
    auto issuing_key = value_or_die(x509::generate_key(x509::KeyType::ecdsa_p256), "issuing key");
    auto serial = value_or_die(x509::random_serial(), "serial");
    auto root = value_or_die(x509::build_certificate(pki::root_spec(now), root_key.get(),
                                                     serial.get(), nullptr, root_key.get()),
                             "root certificate");
    auto issuing = value_or_die(x509::build_certificate(pki::issuing_spec(now), issuing_key.get(),
                                                        serial.get(), root.get(), root_key.get()),
                                "issuing certificate");
    return pki::Authority(std::move(root), std::move(issuing), std::move(issuing_key),
                          kTrustDomain);
  }
};

const TestCa& test_ca() {
  static const TestCa ca;
  return ca;
}

// The reads check_csr makes before and around the signature check, done here unconditionally so
// that mutated (badly signed) requests still reach the name, key and extension parsers.
void read_request(X509_REQ* csr) {
  const X509_NAME* subject = X509_REQ_get_subject_name(csr);
  (void)x509::name_to_string(subject);
  (void)x509::common_name(subject);
  if (EVP_PKEY* key = X509_REQ_get0_pubkey(csr)) (void)x509::classify_key(key);
  x509::X509ExtensionStackPtr exts(X509_REQ_get_extensions(csr));
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts.get()); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    x509::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    (void)sk_GENERAL_NAME_num(names.get());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const TestCa& ca = test_ca();
  auto csr = x509::parse_csr(fuzz::as_view(data, size));
  if (csr) {
    read_request(csr->get());
    const auto identity = verify::Identity::connector("acme", "edge-1");
    auto key = ca.authority.check_csr(csr->get(), identity);
    if (key) {
      // The CA sets the identity: whatever the request asked for, the certificate names exactly
      // this connector, and it verifies under the issuing CA.
      // As the lifecycle does: the request's SubjectPublicKeyInfo is copied as encoded.
      auto issued = ca.authority.issue(identity, {key->get(), X509_REQ_get_X509_PUBKEY(csr->get())},
                                       pki::Days::of(pki::kDefaultLeafDays).value(), ca.now);
      fuzz::require(issued.ok(), "a CSR that passes check_csr can be issued for");
      X509* cert = issued->cert.get();
      fuzz::require(x509::common_name(X509_get_subject_name(cert)) == identity.common_name(),
                    "issued CN is the requested identity");
      auto uris = x509::uri_sans(cert);
      fuzz::require(uris.size() == 1 && uris[0] == identity.spiffe_uri(kTrustDomain),
                    "issued URI SAN is the identity's SPIFFE ID");
      fuzz::require(!x509::is_ca(cert), "issued leaf is not a CA");
      fuzz::require(X509_verify(cert, X509_get0_pubkey(ca.authority.issuing())) == 1,
                    "issued leaf verifies under the issuing CA");
      // The copied key is the request's key, byte for byte, once re-read.
      auto reread = x509::parse_certificate(issued->pem);
      fuzz::require(reread.ok(), "issued certificate parses");
      fuzz::require(EVP_PKEY_eq(X509_get0_pubkey(reread->get()), key->get()) == 1,
                    "issued certificate carries the request's key");
    }
  }
  fuzz::end_input();
  return 0;
}

// Uploaded trust-set checking (verify::check_chain): PEM splitting, the private-key and label
// rules, certificate parsing, issuer/subject order, CA flags and signatures.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "verify/chain_check.h"

using namespace tether;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = fuzz::as_view(data, size);
  auto checked = verify::check_chain(bytes);
  if (checked) {
    // An accepted chain is exactly the file's CERTIFICATE blocks, in file order.
    auto blocks = x509::parse_pem_blocks(bytes);
    fuzz::require(blocks.ok(), "an accepted chain file splits into PEM blocks");
    fuzz::require(blocks->size() == checked->certificates.size(), "one certificate per PEM block");
    for (size_t i = 0; i < blocks->size(); ++i) {
      X509* cert = checked->certificates[i].get();
      fuzz::require((*blocks)[i].label == "CERTIFICATE", "only CERTIFICATE blocks");
      fuzz::require(x509::to_der(cert) == (*blocks)[i].der, "each certificate is its block's DER");
      fuzz::exercise_certificate(cert);
    }
  }
  fuzz::end_input();
  return 0;
}

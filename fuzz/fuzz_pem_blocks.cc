// PEM splitting (x509::parse_pem_blocks), which every PEM path in tether goes through.
#include <openssl/pem.h>

#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"

using namespace tether;

namespace {

// One block written back as PEM, the way OpenSSL writes it (no headers).
std::string write_block(const x509::PemBlock& block) {
  x509::BioPtr bio(BIO_new(BIO_s_mem()));
  const auto* der = reinterpret_cast<const unsigned char*>(block.der.data());
  if (PEM_write_bio(bio.get(), block.label.c_str(), "", der, static_cast<long>(block.der.size())) <=
      0) {
    return {};
  }
  char* text = nullptr;
  long len = BIO_get_mem_data(bio.get(), &text);
  return std::string(text, static_cast<size_t>(len));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = fuzz::as_view(data, size);
  auto blocks = x509::parse_pem_blocks(bytes);
  if (blocks) {
    fuzz::require(x509::looks_like_pem(bytes), "PEM blocks come only from text with a BEGIN line");
    fuzz::require(!blocks->empty(), "parse_pem_blocks succeeds with at least one block");
    for (const auto& block : *blocks) {
      // Splitting is lossless: each block written back parses to the same label and bytes.
      std::string text = write_block(block);
      if (text.empty()) continue;
      auto again = x509::parse_pem_blocks(text);
      fuzz::require(again.ok() && again->size() == 1 && (*again)[0].label == block.label &&
                        (*again)[0].der == block.der,
                    "a PEM block round-trips");
    }
  }
  fuzz::end_input();
  return 0;
}

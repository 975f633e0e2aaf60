// The ClientHello server_name extension parser (tls::parse_server_name_extension): bytes
// straight from the network, read before the handshake has authenticated anything.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "tls/session_binding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto name = tether::tls::parse_server_name_extension(data, size);
  tether::fuzz::require(!name || name->size() + 5 <= size, "a name never outgrows its framing");
  return 0;
}

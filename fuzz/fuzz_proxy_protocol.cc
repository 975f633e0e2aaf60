// The PROXY protocol v2 header (gateway::parse_proxy_header_prefix, parse_proxy_header) on raw
// bytes, as they arrive from a load balancer before the TLS handshake. Checks that the two entry
// points agree (a whole header is accepted only if its fixed part is, with exactly the length
// that part declared), that the addresses reported are the ones in the header, in canonical
// text, that a v1 text header is refused as such, and that every refusal says why.
#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "fuzz_common.h"
#include "gateway/proxy_protocol.h"

using namespace tether;
using namespace tether::gateway;

namespace {

// The address as inet_pton reads it back must be the bytes the header carried, and printing
// those bytes again must give the same text (so the text is canonical).
void require_address(const std::string& ip, int af, const uint8_t* carried) {
  uint8_t back[16] = {};
  fuzz::require(inet_pton(af, ip.c_str(), back) == 1, "the address parses in its family");
  size_t size = af == AF_INET ? 4 : 16;
  fuzz::require(std::memcmp(back, carried, size) == 0, "the address is the one in the header");
  char again[INET6_ADDRSTRLEN] = {};
  fuzz::require(inet_ntop(af, back, again, sizeof again) != nullptr && ip == again,
                "the address text is canonical");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  auto prefix = parse_proxy_header_prefix(input.first(std::min(size, kProxyHeaderFixedSize)));
  fuzz::require(prefix.ok() || !prefix.error().message.empty(), "every refusal says why");
  if (prefix.ok()) fuzz::require(*prefix <= kProxyHeaderMaxBody, "the length is bounded");

  auto header = parse_proxy_header(input);
  if (fuzz::as_view(data, size).starts_with("PROXY ")) {
    fuzz::require(!header.ok() && header.error().message.find("version 1") != std::string::npos,
                  "a v1 text header is refused as such");
  }
  if (!header.ok()) {
    fuzz::require(!header.error().message.empty(), "every refusal says why");
    fuzz::require(header.error().code == Errc::invalid_argument, "refusals are invalid_argument");
    return 0;
  }
  fuzz::require(prefix.ok(), "a whole header is accepted only if its fixed part is");
  fuzz::require(*prefix == size - kProxyHeaderFixedSize, "the fixed part gave the whole length");

  uint8_t command = data[12] & 0x0F;
  uint8_t family = data[13];
  if (header->local || family == 0x00) {
    fuzz::require(header->local == (command == 0x0), "local is exactly the LOCAL command");
    fuzz::require(header->source_ip.empty() && header->destination_ip.empty(),
                  "no address without one in the header");
    fuzz::require(header->source_port == 0 && header->destination_port == 0,
                  "no port without one in the header");
    return 0;
  }
  fuzz::require(command == 0x1, "addresses come only with the PROXY command");
  fuzz::require(family == 0x11 || family == 0x21, "addresses only for TCP over IPv4 or IPv6");
  const uint8_t* body = data + kProxyHeaderFixedSize;
  int af = family == 0x11 ? AF_INET : AF_INET6;
  size_t ip_size = af == AF_INET ? 4 : 16;
  require_address(header->source_ip, af, body);
  require_address(header->destination_ip, af, body + ip_size);
  const uint8_t* ports = body + 2 * ip_size;
  fuzz::require(header->source_port == (ports[0] << 8 | ports[1]), "the source port is carried");
  fuzz::require(header->destination_port == (ports[2] << 8 | ports[3]),
                "the destination port is carried");
  return 0;
}

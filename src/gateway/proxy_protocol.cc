#include "gateway/proxy_protocol.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "common/hex.h"
#include "common/quote.h"

namespace tether::gateway {

namespace {

// Section 2.2: the first 12 bytes of every v2 header, chosen so that no v1 header or common
// protocol (HTTP, TLS, SSH, ...) starts with them.
constexpr uint8_t kSignature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
// Section 2.1: a v1 header starts with "PROXY" and a space.
constexpr std::string_view kV1Start = "PROXY ";

// Byte 13: version in the high nibble, command in the low one (2.2).
constexpr uint8_t kVersion2 = 0x2;
constexpr uint8_t kCommandLocal = 0x0;
constexpr uint8_t kCommandProxy = 0x1;

// Byte 14: address family in the high nibble, transport protocol in the low one (2.2).
constexpr uint8_t kUnspec = 0x00;
constexpr uint8_t kTcp4 = 0x11;
constexpr uint8_t kUdp4 = 0x12;
constexpr uint8_t kTcp6 = 0x21;
constexpr uint8_t kUdp6 = 0x22;
constexpr uint8_t kUnixStream = 0x31;
constexpr uint8_t kUnixDgram = 0x32;

// The address block of each accepted family (2.2): source and destination address, then source
// and destination port, all in network byte order.
constexpr size_t kIpv4Size = 4;
constexpr size_t kIpv6Size = 16;
constexpr size_t kTcp4AddressesSize = 2 * kIpv4Size + 2 * 2;  // 12
constexpr size_t kTcp6AddressesSize = 2 * kIpv6Size + 2 * 2;  // 36

// A TLV (2.2): type (1 byte), length (2 bytes, big-endian), then that many bytes of value.
constexpr size_t kTlvHeaderSize = 3;

Error refuse(std::string why) {
  return make_error(Errc::invalid_argument, "PROXY protocol header " + why);
}

std::string hex_byte(uint8_t b) {
  std::string out = "0x";
  hex::append_byte(out, b);
  return out;
}

std::string hex_nibble(uint8_t n) {
  char out[4];
  std::snprintf(out, sizeof out, "0x%x", n & 0x0F);
  return out;
}

// "0d 0a 0d ...": how the signature bytes are shown in a refusal.
std::string hex_bytes(std::span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t b : bytes) {
    if (!out.empty()) out += ' ';
    hex::append_byte(out, b);
  }
  return out;
}

uint16_t read_u16(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

std::string_view family_name(uint8_t family) {
  switch (family) {
    case kTcp4:
      return "TCP over IPv4";
    case kUdp4:
      return "UDP over IPv4";
    case kTcp6:
      return "TCP over IPv6";
    case kUdp6:
      return "UDP over IPv6";
    case kUnixStream:
      return "UNIX stream";
    case kUnixDgram:
      return "UNIX datagram";
    default:
      return "";
  }
}

bool starts_with_v1(std::span<const uint8_t> bytes) {
  return bytes.size() >= kV1Start.size() &&
         std::equal(kV1Start.begin(), kV1Start.end(), bytes.begin());
}

// Section 2.2: for PROXY, the address family and transport of byte 14, and the size of the
// address block it implies (0 for UNSPEC, whose addresses are ignored).
Result<size_t> addresses_size(uint8_t family) {
  switch (family) {
    case kUnspec:
      return size_t{0};
    case kTcp4:
      return kTcp4AddressesSize;
    case kTcp6:
      return kTcp6AddressesSize;
    case kUdp4:
    case kUdp6:
    case kUnixStream:
    case kUnixDgram:
      return refuse("has family/protocol " + hex_byte(family) + " (" +
                    std::string(family_name(family)) +
                    "): this gateway accepts only TCP over IPv4 (0x11) or IPv6 (0x21), or "
                    "UNSPEC (0x00); send the TCP connection's addresses");
    default:
      return refuse("has family/protocol " + hex_byte(family) +
                    ", which section 2.2 does not define: send 0x11 (TCP over IPv4) or 0x21 (TCP "
                    "over IPv6)");
  }
}

// Section 2.2: TLVs fill the rest of the variable part, each within it. Their contents are not
// used, so only the framing is checked. `at` is the offset of `tlvs` in the whole header.
Status check_tlvs(std::span<const uint8_t> tlvs, size_t at) {
  size_t i = 0;
  while (i < tlvs.size()) {
    size_t left = tlvs.size() - i;
    if (left < kTlvHeaderSize) {
      return refuse("ends with " + std::to_string(left) + " byte(s) at offset " +
                    std::to_string(at + i) +
                    ", too few for a TLV's type and length (3 bytes): the proxy sent a "
                    "malformed header");
    }
    size_t length = read_u16(tlvs, i + 1);
    if (length > left - kTlvHeaderSize) {
      return refuse("has a TLV of type " + hex_byte(tlvs[i]) + " at offset " +
                    std::to_string(at + i) + " declaring " + std::to_string(length) +
                    " byte(s), but only " + std::to_string(left - kTlvHeaderSize) +
                    " remain in the header: the proxy sent a malformed header");
    }
    i += kTlvHeaderSize + length;
  }
  return ok_status();
}

// Textual form of an address in network byte order: dotted quad, or RFC 5952 for IPv6.
std::string format_ip(int af, const uint8_t* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(af, bytes, text, sizeof text) == nullptr) return {};
  return text;
}

}  // namespace

Result<size_t> parse_proxy_header_prefix(std::span<const uint8_t> fixed16) {
  if (starts_with_v1(fixed16)) {
    std::string_view start(reinterpret_cast<const char*>(fixed16.data()), fixed16.size());
    return refuse("is version 1, the text form (" + quote_value(start, '"') +
                  "...): this gateway accepts only version 2 (binary); configure the proxy to "
                  "send v2 (HAProxy: send-proxy-v2)");
  }
  if (fixed16.size() < kProxyHeaderFixedSize) {
    return refuse("is truncated: " + std::to_string(fixed16.size()) +
                  " byte(s), fewer than its 16-byte fixed part");
  }
  if (fixed16.size() > kProxyHeaderFixedSize) {
    return refuse("parser was given " + std::to_string(fixed16.size()) +
                  " bytes for the fixed part: pass exactly the first 16");
  }
  auto signature = fixed16.first<sizeof kSignature>();
  if (!std::equal(signature.begin(), signature.end(), std::begin(kSignature))) {
    std::string hint = fixed16[0] == 0x16 ? " (0x16 starts a TLS handshake: the client connected "
                                            "directly, not through the proxy)"
                                          : "";
    return refuse("does not start with the v2 signature " + hex_bytes(kSignature) + " (got " +
                  hex_bytes(signature) + ")" + hint +
                  ": the peer sent no PROXY v2 header; have the proxy in front send one "
                  "(HAProxy: send-proxy-v2)");
  }
  uint8_t version_command = fixed16[12];
  uint8_t version = version_command >> 4;
  uint8_t command = version_command & 0x0F;
  if (version != kVersion2) {
    return refuse("has version " + hex_nibble(version) + " (byte 13 is " +
                  hex_byte(version_command) +
                  "): the binary header is only defined as version 2 (2.2); send 0x20 (LOCAL) "
                  "or 0x21 (PROXY)");
  }
  if (command != kCommandLocal && command != kCommandProxy) {
    return refuse("has command " + hex_nibble(command) + " (byte 13 is " +
                  hex_byte(version_command) +
                  "), neither LOCAL (0x0) nor PROXY (0x1), the only ones defined (2.2)");
  }
  size_t length = read_u16(fixed16, 14);
  if (length > kProxyHeaderMaxBody) {
    return refuse("declares " + std::to_string(length) +
                  " bytes of addresses and TLVs, more than the " +
                  std::to_string(kProxyHeaderMaxBody) +
                  " this gateway accepts: have the proxy send fewer or smaller TLVs");
  }
  // LOCAL: the family and the whole variable part are discarded (2.2).
  if (command == kCommandLocal) return length;
  uint8_t family = fixed16[13];
  TETHER_ASSIGN_OR_RETURN(size_t needed, addresses_size(family));
  if (length < needed) {
    return refuse("declares " + std::to_string(length) +
                  " bytes after the fixed part, too few for the addresses of " +
                  std::string(family_name(family)) + " (" + hex_byte(family) + "), which take " +
                  std::to_string(needed));
  }
  return length;
}

Result<ProxyHeader> parse_proxy_header(std::span<const uint8_t> whole) {
  TETHER_ASSIGN_OR_RETURN(
      size_t length,
      parse_proxy_header_prefix(whole.first(std::min(whole.size(), kProxyHeaderFixedSize))));
  size_t body_size = whole.size() - kProxyHeaderFixedSize;
  if (body_size < length) {
    return refuse("is truncated: it declares " + std::to_string(length) +
                  " bytes after the fixed part, but " + std::to_string(body_size) + " follow");
  }
  if (body_size > length) {
    return refuse("is followed by " + std::to_string(body_size - length) + " byte(s) beyond the " +
                  std::to_string(length) + " it declares: pass exactly the header");
  }
  ProxyHeader out;
  if ((whole[12] & 0x0F) == kCommandLocal) {
    out.local = true;
    return out;
  }
  std::span<const uint8_t> body = whole.subspan(kProxyHeaderFixedSize);
  uint8_t family = whole[13];
  // UNSPEC: no address is given, and whatever the block holds is ignored (2.2).
  if (family == kUnspec) return out;
  bool v4 = family == kTcp4;
  size_t ip_size = v4 ? kIpv4Size : kIpv6Size;
  int af = v4 ? AF_INET : AF_INET6;
  out.source_ip = format_ip(af, body.data());
  out.destination_ip = format_ip(af, body.data() + ip_size);
  out.source_port = read_u16(body, 2 * ip_size);
  out.destination_port = read_u16(body, 2 * ip_size + 2);
  size_t addresses = v4 ? kTcp4AddressesSize : kTcp6AddressesSize;
  TETHER_TRY(check_tlvs(body.subspan(addresses), kProxyHeaderFixedSize + addresses));
  return out;
}

}  // namespace tether::gateway

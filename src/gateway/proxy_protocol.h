// The PROXY protocol version 2 header (HAProxy, "The PROXY protocol, Versions 1 & 2", section
// 2.2): how a TCP load balancer in front of the gateway passes on the client's address, which the
// gateway would otherwise see only as the balancer's. The header is binary and comes before the
// first byte of the TLS handshake.
//
// Only what the gateway can use is accepted, and everything else is refused before a single TLS
// byte is read, so a misconfigured proxy fails loudly instead of being logged as the client:
//  - version 2 only: a v1 text header ("PROXY TCP4 ...", section 2.1) is refused, since the
//    binary header states its length up front and is read in two bounded reads;
//  - LOCAL (the proxy's own health check): the addresses are discarded and the real peer is the
//    client (2.2);
//  - PROXY over TCP on IPv4 or IPv6; UDP and UNIX sockets carry no TCP client to name and are
//    refused; UNSPEC gives no address at all (the spec says to ignore its address block), which
//    the caller may take as the real peer or refuse (2.2);
//  - TLVs after the addresses are walked for framing and otherwise ignored (the CRC32C TLV is
//    not checked, which 2.2 allows a receiver that does not implement it).
// The variable part is capped at kProxyHeaderMaxBody bytes, so a peer cannot make the gateway
// buffer 64 KiB before the handshake.
//
// Reading: read kProxyHeaderFixedSize bytes, call parse_proxy_header_prefix for the length L of
// the rest, read exactly L more bytes, then call parse_proxy_header on all 16 + L.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/error.h"

namespace tether::gateway {

// Fixed part of a v2 header: 12-byte signature, version/command, family/protocol, 2-byte length.
inline constexpr size_t kProxyHeaderFixedSize = 16;
// Upper bound on the variable part this gateway accepts (addresses + TLVs); larger is refused.
inline constexpr size_t kProxyHeaderMaxBody = 512;

// Checks the 16 fixed bytes; returns the length of the variable part that follows (<=
// kProxyHeaderMaxBody). Errors (Errc::invalid_argument) name the offending byte and what the
// proxy should send instead.
Result<size_t> parse_proxy_header_prefix(std::span<const uint8_t> fixed16);

struct ProxyHeader {
  bool local = false;     // LOCAL command (health check by the proxy itself): no addresses; use
                          // the real peer
  std::string source_ip;  // "192.0.2.7" or "2001:db8::1" (textual form; empty when local or
                          // family UNSPEC)
  uint16_t source_port = 0;
  std::string destination_ip;
  uint16_t destination_port = 0;
};

// Parses a whole header: the 16 fixed bytes followed by exactly the variable part whose length
// they gave.
Result<ProxyHeader> parse_proxy_header(std::span<const uint8_t> whole);

}  // namespace tether::gateway

#include "gateway/proxy_protocol.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::gateway {
namespace {

using Bytes = std::vector<uint8_t>;

const Bytes kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// A v2 header (section 2.2): signature, byte 13 (version/command), byte 14 (family/protocol), the
// 2-byte length (the body's own, or `declared`), then the body.
Bytes header(uint8_t version_command, uint8_t family, const Bytes& body,
             std::optional<size_t> declared = std::nullopt) {
  size_t length = declared.value_or(body.size());
  Bytes out = kSignature;
  out.push_back(version_command);
  out.push_back(family);
  out.push_back(static_cast<uint8_t>(length >> 8));
  out.push_back(static_cast<uint8_t>(length & 0xFF));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// 192.0.2.7:51234 -> 198.51.100.1:443
const Bytes kIpv4Addresses = {192, 0, 2, 7, 198, 51, 100, 1, 0xC8, 0x22, 0x01, 0xBB};

// [2001:db8::1]:51234 -> [2001:db8:0:0:1:0:0:2]:443, whose canonical form elides the first of
// two equally long runs of zeros (RFC 5952 4.2.3): "2001:db8::1:0:0:2"
const Bytes kIpv6Addresses = {0x20, 0x01, 0x0D, 0xB8, 0,    0,    0,    0,    0,    0,   0, 0, 0,
                              0,    0,    1,    0x20, 0x01, 0x0D, 0xB8, 0,    0,    0,   0, 0, 1,
                              0,    0,    0,    0,    0,    2,    0xC8, 0x22, 0x01, 0xBB};

std::span<const uint8_t> fixed_part(const Bytes& whole) {
  return std::span<const uint8_t>(whole).first(std::min(whole.size(), kProxyHeaderFixedSize));
}

// The refusal of the whole header (and of its fixed part, when that alone is refused already).
std::string refusal(const Bytes& whole) {
  auto parsed = parse_proxy_header(whole);
  if (parsed.ok()) {
    ADD_FAILURE() << "accepted a header that should be refused";
    return "";
  }
  EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
  EXPECT_FALSE(parsed.error().message.empty());
  return parsed.error().message;
}

std::string prefix_refusal(const Bytes& whole) {
  auto length = parse_proxy_header_prefix(fixed_part(whole));
  if (length.ok()) {
    ADD_FAILURE() << "accepted a fixed part that should be refused";
    return "";
  }
  EXPECT_EQ(length.error().code, Errc::invalid_argument);
  // The whole parse refuses for the same reason.
  EXPECT_EQ(refusal(whole), length.error().message);
  return length.error().message;
}

ProxyHeader accepted(const Bytes& whole) {
  auto length = parse_proxy_header_prefix(fixed_part(whole));
  EXPECT_TRUE(length.ok()) << length.error().message;
  if (length.ok()) {
    EXPECT_EQ(*length, whole.size() - kProxyHeaderFixedSize);
  }
  auto parsed = parse_proxy_header(whole);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? *parsed : ProxyHeader{};
}

constexpr auto npos = std::string::npos;

TEST(ProxyProtocol, ParsesTcpOverIpv4) {
  ProxyHeader h = accepted(header(0x21, 0x11, kIpv4Addresses));
  EXPECT_FALSE(h.local);
  EXPECT_EQ(h.source_ip, "192.0.2.7");
  EXPECT_EQ(h.source_port, 51234);
  EXPECT_EQ(h.destination_ip, "198.51.100.1");
  EXPECT_EQ(h.destination_port, 443);
}

TEST(ProxyProtocol, ParsesTcpOverIpv6Canonically) {
  ProxyHeader h = accepted(header(0x21, 0x21, kIpv6Addresses));
  EXPECT_FALSE(h.local);
  EXPECT_EQ(h.source_ip, "2001:db8::1");
  EXPECT_EQ(h.source_port, 51234);
  EXPECT_EQ(h.destination_ip, "2001:db8::1:0:0:2");
  EXPECT_EQ(h.destination_port, 443);
}

// Headers built by an independent encoder, proxy-protocol-js 4.0.6 (npm), rather than by the
// helper above.
TEST(ProxyProtocol, ParsesAnotherEncodersHeaders) {
  // PROXY, STREAM, 203.0.113.9:40000 -> 10.1.2.3:8443
  const Bytes v4 = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
                    0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c, 0xcb, 0x00, 0x71, 0x09,
                    0x0a, 0x01, 0x02, 0x03, 0x9c, 0x40, 0x20, 0xfb};
  ProxyHeader h4 = accepted(v4);
  EXPECT_EQ(h4.source_ip, "203.0.113.9");
  EXPECT_EQ(h4.source_port, 40000);
  EXPECT_EQ(h4.destination_ip, "10.1.2.3");
  EXPECT_EQ(h4.destination_port, 8443);

  // PROXY, STREAM, [2001:db8:0:0:1:0:0:1]:65535 -> [::ffff:192.0.2.1]:443
  const Bytes v6 = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21,
                    0x21, 0x00, 0x24, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
                    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                    0x00, 0x00, 0x00, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x01, 0xff, 0xff, 0x01, 0xbb};
  ProxyHeader h6 = accepted(v6);
  EXPECT_EQ(h6.source_ip, "2001:db8::1:0:0:1");
  EXPECT_EQ(h6.source_port, 65535);
  EXPECT_EQ(h6.destination_ip, "::ffff:192.0.2.1");
  EXPECT_EQ(h6.destination_port, 443);

  // LOCAL, UNSPEC, no body
  const Bytes local = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
                       0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00};
  EXPECT_TRUE(accepted(local).local);
}

TEST(ProxyProtocol, LocalDiscardsFamilyAndBody) {
  for (const Bytes& whole : {
           header(0x20, 0x00, {}),
           header(0x20, 0x11, kIpv4Addresses),      // addresses given anyway: ignored
           header(0x20, 0x12, kIpv4Addresses),      // UDP, refused with PROXY
           header(0x20, 0xFF, {0x01, 0xFF, 0xFF}),  // undefined family, broken "TLV"
           header(0x20, 0x21, Bytes(4, 0)),         // too short for IPv6 addresses
           header(0x20, 0x00, Bytes(kProxyHeaderMaxBody, 0xAA)),
       }) {
    ProxyHeader h = accepted(whole);
    EXPECT_TRUE(h.local);
    EXPECT_EQ(h.source_ip, "");
    EXPECT_EQ(h.destination_ip, "");
    EXPECT_EQ(h.source_port, 0);
    EXPECT_EQ(h.destination_port, 0);
  }
}

TEST(ProxyProtocol, UnspecWithProxyGivesNoAddressButIsNotLocal) {
  for (const Bytes& body : {Bytes{}, Bytes{1, 2, 3, 4, 5}, kIpv4Addresses}) {
    ProxyHeader h = accepted(header(0x21, 0x00, body));
    EXPECT_FALSE(h.local);
    EXPECT_EQ(h.source_ip, "");
    EXPECT_EQ(h.destination_ip, "");
    EXPECT_EQ(h.source_port, 0);
  }
}

TEST(ProxyProtocol, SkipsTlvsAfterTheAddresses) {
  const Bytes tlvs = {
      0x01, 0x00, 0x02, 'h',  '2',                     // PP2_TYPE_ALPN "h2"
      0x03, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF,        // PP2_TYPE_CRC32C, not checked
      0x04, 0x00, 0x00,                                // PP2_TYPE_NOOP, empty
      0x20, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00,  // PP2_TYPE_SSL, contents not read
  };
  ProxyHeader h4 = accepted(header(0x21, 0x11, concat(kIpv4Addresses, tlvs)));
  EXPECT_EQ(h4.source_ip, "192.0.2.7");
  EXPECT_EQ(h4.destination_port, 443);
  ProxyHeader h6 = accepted(header(0x21, 0x21, concat(kIpv6Addresses, tlvs)));
  EXPECT_EQ(h6.source_ip, "2001:db8::1");

  // One TLV filling the variable part up to the limit.
  size_t fill = kProxyHeaderMaxBody - kIpv4Addresses.size() - 3;
  Bytes big = {0x04, static_cast<uint8_t>(fill >> 8), static_cast<uint8_t>(fill & 0xFF)};
  big.resize(3 + fill, 0);
  EXPECT_EQ(accepted(header(0x21, 0x11, concat(kIpv4Addresses, big))).source_port, 51234);
}

TEST(ProxyProtocol, RefusesATlvRunningPastTheEnd) {
  std::string msg = refusal(header(0x21, 0x11, concat(kIpv4Addresses, {0x02, 0x00, 0x10, 'a'})));
  EXPECT_NE(msg.find("TLV of type 0x02 at offset 28 declaring 16 byte(s), but only 1 remain"), npos)
      << msg;

  // The second TLV overruns, in an IPv6 header: offset counts from the signature.
  msg = refusal(header(0x21, 0x21, concat(kIpv6Addresses, {0x04, 0x00, 0x00, 0x05, 0x00, 0x01})));
  EXPECT_NE(msg.find("TLV of type 0x05 at offset 55 declaring 1 byte(s), but only 0 remain"), npos)
      << msg;

  // Bytes too few for a TLV's own type and length.
  msg = refusal(header(0x21, 0x11, concat(kIpv4Addresses, {0x04, 0x00})));
  EXPECT_NE(msg.find("ends with 2 byte(s) at offset 28, too few for a TLV's type and length"), npos)
      << msg;
}

TEST(ProxyProtocol, RefusesABodyTooShortForTheAddresses) {
  std::string msg =
      prefix_refusal(header(0x21, 0x11, Bytes(kIpv4Addresses.begin(), kIpv4Addresses.begin() + 8)));
  EXPECT_NE(msg.find("declares 8 bytes after the fixed part, too few for the addresses of TCP "
                     "over IPv4 (0x11), which take 12"),
            npos)
      << msg;
  // IPv4-sized addresses under the IPv6 family.
  msg = prefix_refusal(header(0x21, 0x21, kIpv4Addresses));
  EXPECT_NE(msg.find("declares 12 bytes after the fixed part, too few for the addresses of TCP "
                     "over IPv6 (0x21), which take 36"),
            npos)
      << msg;
  msg = prefix_refusal(header(0x21, 0x21, {}));
  EXPECT_NE(msg.find("declares 0 bytes"), npos) << msg;
}

TEST(ProxyProtocol, RefusesABadSignature) {
  Bytes whole = header(0x21, 0x11, kIpv4Addresses);
  whole[7] = 0x50;  // 'P' instead of 'Q'
  std::string msg = prefix_refusal(whole);
  EXPECT_NE(msg.find("does not start with the v2 signature 0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a "
                     "(got 0d 0a 0d 0a 00 0d 0a 50 55 49 54 0a)"),
            npos)
      << msg;
  EXPECT_NE(msg.find("send-proxy-v2"), npos) << msg;
  EXPECT_EQ(msg.find("TLS handshake"), npos) << msg;

  // A client that skipped the proxy: its TLS ClientHello arrives where the header should be.
  Bytes hello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
                 0xFC, 0x03, 0x03, 0x5A, 0x21, 0x11, 0x00, 0x0C};
  msg = prefix_refusal(hello);
  EXPECT_NE(msg.find("(got 16 03 01 02 00 01 00 01 fc 03 03 5a)"), npos) << msg;
  EXPECT_NE(msg.find("0x16 starts a TLS handshake: the client connected directly"), npos) << msg;
}

TEST(ProxyProtocol, RefusesAVersion1TextHeader) {
  struct Refused {
    std::string_view header;
    std::string_view says;  // the bytes the refusal shows: the fixed part's worth at most
  };
  const Refused cases[] = {
      {"PROXY TCP4 192.0.2.7 198.51.100.1 51234 443\r\nGET / HTTP/1.1\r\n",
       "is version 1, the text form (\"PROXY TCP4 192.0\"...)"},
      // The shortest v1 header, 15 bytes: refused as v1, not as truncated.
      {"PROXY UNKNOWN\r\n", "is version 1, the text form (\"PROXY UNKNOWN\\x0d\\x0a\"...)"},
  };
  for (const Refused& c : cases) {
    std::string msg = prefix_refusal(text(c.header));
    EXPECT_NE(msg.find(c.says), npos) << msg;
    EXPECT_NE(msg.find("accepts only version 2 (binary)"), npos) << msg;
  }
}

TEST(ProxyProtocol, RefusesAVersionOtherThan2) {
  std::string msg = prefix_refusal(header(0x11, 0x11, kIpv4Addresses));
  EXPECT_NE(msg.find("has version 0x1 (byte 13 is 0x11)"), npos) << msg;
  EXPECT_NE(msg.find("send 0x20 (LOCAL) or 0x21 (PROXY)"), npos) << msg;
  msg = prefix_refusal(header(0x30, 0x00, {}));
  EXPECT_NE(msg.find("has version 0x3 (byte 13 is 0x30)"), npos) << msg;
}

TEST(ProxyProtocol, RefusesAnUndefinedCommand) {
  std::string msg = prefix_refusal(header(0x22, 0x11, kIpv4Addresses));
  EXPECT_NE(msg.find("has command 0x2 (byte 13 is 0x22), neither LOCAL (0x0) nor PROXY (0x1)"),
            npos)
      << msg;
  msg = prefix_refusal(header(0x2F, 0x00, {}));
  EXPECT_NE(msg.find("has command 0xf (byte 13 is 0x2f)"), npos) << msg;
}

TEST(ProxyProtocol, RefusesUdpAndUnixFamilies) {
  struct Refused {
    uint8_t family;
    size_t body;
    std::string_view says;
  };
  const Refused cases[] = {
      {0x12, 12, "has family/protocol 0x12 (UDP over IPv4): this gateway accepts only TCP"},
      {0x22, 36, "has family/protocol 0x22 (UDP over IPv6)"},
      {0x31, 216, "has family/protocol 0x31 (UNIX stream)"},
      {0x32, 216, "has family/protocol 0x32 (UNIX datagram)"},
      // Not defined by the spec at all.
      {0x13, 12, "has family/protocol 0x13, which section 2.2 does not define"},
      {0x01, 0, "has family/protocol 0x01, which section 2.2 does not define"},
      {0x10, 12, "has family/protocol 0x10, which section 2.2 does not define"},
      {0x41, 12, "has family/protocol 0x41, which section 2.2 does not define"},
  };
  for (const Refused& c : cases) {
    std::string msg = prefix_refusal(header(0x21, c.family, Bytes(c.body, 0)));
    EXPECT_NE(msg.find(c.says), npos) << msg;
  }
}

TEST(ProxyProtocol, RefusesAVariablePartOverTheLimit) {
  for (uint8_t command : {0x20, 0x21}) {  // LOCAL too: its body would have to be read to skip it
    Bytes whole =
        header(command, 0x11, concat(kIpv4Addresses, {0x04, 0x01, 0xF6}), kProxyHeaderMaxBody + 1);
    std::string msg = prefix_refusal(whole);
    EXPECT_NE(msg.find("declares 513 bytes of addresses and TLVs, more than the 512 this gateway "
                       "accepts"),
              npos)
        << msg;
  }
  std::string msg = prefix_refusal(header(0x21, 0x21, {}, 0xFFFF));
  EXPECT_NE(msg.find("declares 65535 bytes"), npos) << msg;
}

TEST(ProxyProtocol, RefusesTruncatedInput) {
  Bytes whole = header(0x21, 0x11, kIpv4Addresses);
  std::string msg = prefix_refusal(Bytes(whole.begin(), whole.begin() + 10));
  EXPECT_NE(msg.find("is truncated: 10 byte(s), fewer than its 16-byte fixed part"), npos) << msg;
  msg = prefix_refusal({});
  EXPECT_NE(msg.find("is truncated: 0 byte(s)"), npos) << msg;

  // The fixed part is whole, the variable part is not.
  msg = refusal(Bytes(whole.begin(), whole.end() - 1));
  EXPECT_NE(msg.find("is truncated: it declares 12 bytes after the fixed part, but 11 follow"),
            npos)
      << msg;
  msg = refusal(Bytes(whole.begin(), whole.begin() + kProxyHeaderFixedSize));
  EXPECT_NE(msg.find("but 0 follow"), npos) << msg;
}

TEST(ProxyProtocol, RefusesBytesBeyondTheDeclaredLength) {
  Bytes whole = concat(header(0x21, 0x11, kIpv4Addresses), {0x16, 0x03});
  std::string msg = refusal(whole);
  EXPECT_NE(msg.find("is followed by 2 byte(s) beyond the 12 it declares"), npos) << msg;
  // The fixed part alone is fine: the caller reads exactly the 12 it declares.
  auto length = parse_proxy_header_prefix(fixed_part(whole));
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, 12u);
}

TEST(ProxyProtocol, PrefixTakesExactlyTheFixedPart) {
  Bytes whole = header(0x21, 0x11, kIpv4Addresses);
  auto length = parse_proxy_header_prefix(std::span<const uint8_t>(whole).first(17));
  ASSERT_FALSE(length.ok());
  EXPECT_NE(length.error().message.find(
                "parser was given 17 bytes for the fixed part: pass exactly the first 16"),
            npos)
      << length.error().message;
}

}  // namespace
}  // namespace tether::gateway

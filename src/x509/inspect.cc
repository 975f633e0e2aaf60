#include "x509/inspect.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <cstdio>

#include "x509/openssl_error.h"

namespace tether::x509 {

namespace {
std::string to_hex(const unsigned char* data, size_t len, bool colons) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr char kHexUpper[] = "0123456789ABCDEF";
  const char* digits = colons ? kHexUpper : kHex;
  std::string out;
  for (size_t i = 0; i < len; ++i) {
    if (colons && i > 0) out += ':';
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

std::string fingerprint(const X509* cert, bool colons) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &len) != 1) {
    drain_openssl_errors();
    return {};
  }
  return to_hex(md.data(), len, colons);
}
}  // namespace

std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string common_name(const X509_NAME* name) {
  int index = -1;
  int last = -1;
  while ((index = X509_NAME_get_index_by_NID(name, NID_commonName, index)) >= 0) last = index;
  if (last < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
  unsigned char* raw = nullptr;
  int len = ASN1_STRING_to_UTF8(&raw, data);
  OpensslBytes utf8(raw);
  if (len < 0) {
    drain_openssl_errors();
    return {};
  }
  return std::string(reinterpret_cast<char*>(utf8.get()), static_cast<size_t>(len));
}

std::string describe_at_depth(const X509* cert, size_t depth) {
  std::string text = "certificate at depth " + std::to_string(depth);
  if (cert != nullptr) text += " (" + subject_string(cert) + ")";
  return text;
}

std::string subject_string(const X509* cert) {
  return name_to_string(X509_get_subject_name(cert));
}
std::string issuer_string(const X509* cert) {
  return name_to_string(X509_get_issuer_name(cert));
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return {};
  OpensslString hex(BN_bn2hex(bn.get()));
  if (!hex) return {};
  std::string out(hex.get());
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Canonical form: no leading zero nibbles, so the same serial always prints the same way.
  bool negative = !out.empty() && out[0] == '-';
  size_t start = negative ? 1 : 0;
  size_t first = out.find_first_not_of('0', start);
  if (first == std::string::npos) return "0";
  return (negative ? "-" : "") + out.substr(first);
}

std::string serial_hex(const X509* cert) {
  return serial_hex(X509_get0_serialNumber(cert));
}

std::string fingerprint_sha256(const X509* cert) {
  return fingerprint(cert, false);
}
std::string fingerprint_sha256_colons(const X509* cert) {
  return fingerprint(cert, true);
}

std::optional<int64_t> asn1_time_to_unix(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

int64_t not_before(const X509* cert) {
  return asn1_time_to_unix(X509_get0_notBefore(cert)).value_or(0);
}
int64_t not_after(const X509* cert) {
  return asn1_time_to_unix(X509_get0_notAfter(cert)).value_or(0);
}

std::string format_rfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  // Four-digit years always (RFC 3339 5.6), which %Y does not promise for years before 1000.
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Result<int64_t> parse_rfc3339(std::string_view text) {
  // RFC 3339 5.6 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), digits exactly as wide
  // as the grammar says, and a date that exists.
  auto bad = [&] {
    return make_error(
        Errc::invalid_argument,
        "time '" + std::string(text) + "' is not RFC 3339: use e.g. 2027-01-31T12:00:00Z");
  };
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  auto at = [&](size_t pos, char c) {
    return pos < text.size() &&
           (text[pos] == c || std::tolower(static_cast<unsigned char>(text[pos])) == c);
  };
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (!digits(0, 4, year) || !at(4, '-') || !digits(5, 2, mon) || !at(7, '-') ||
      !digits(8, 2, day) || !at(10, 't') || !digits(11, 2, hour) || !at(13, ':') ||
      !digits(14, 2, min) || !at(16, ':') || !digits(17, 2, sec)) {
    return bad();
  }
  size_t pos = 19;
  if (at(pos, '.')) {
    size_t start = ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == start) return bad();
  }
  int64_t offset = 0;
  if (at(pos, 'z') && pos + 1 == text.size()) {
    offset = 0;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
             text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!digits(pos + 1, 2, oh) || !digits(pos + 4, 2, om) || oh > 23 || om > 59) return bad();
    offset = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
  } else {
    return bad();
  }
  // Leap seconds (:60) are folded into the next second, as POSIX time does.
  if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 60) return bad();
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int month_days = kDaysInMonth[mon - 1] + (mon == 2 && leap ? 1 : 0);
  if (day > month_days) return bad();
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

std::vector<std::string> uri_sans(X509* cert) {
  std::vector<std::string> uris;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return uris;
}

std::vector<std::string> dns_sans(X509* cert) {
  std::vector<std::string> dns;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_DNS) continue;
    dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                     static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
  }
  return dns;
}

std::optional<std::string> ip_address_text(const ASN1_OCTET_STRING* ip) {
  int length = ASN1_STRING_length(ip);
  int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
  char out[INET6_ADDRSTRLEN];
  if (family == 0 || ::inet_ntop(family, ASN1_STRING_get0_data(ip), out, sizeof out) == nullptr)
    return std::nullopt;
  return std::string(out);
}

std::vector<std::string> ip_sans(X509* cert) {
  std::vector<std::string> ips;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_IPADD) continue;
    if (auto text = ip_address_text(gn->d.iPAddress)) ips.push_back(*text);
  }
  return ips;
}

bool is_ca(X509* cert) {
  // basicConstraints present with cA TRUE; v1 "roots" and Netscape types do not count.
  uint32_t flags = X509_get_extension_flags(cert);
  return (flags & EXFLAG_BCONS) && (flags & EXFLAG_CA);
}

Result<Asn1IntegerPtr> random_serial() {
  std::array<unsigned char, 16> bytes{};
  for (;;) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      return openssl_error(Errc::crypto_error, "random number generator failed");
    }
    bytes[0] &= 0x7f;  // positive
    // A serial with leading zero octets would have fewer than 64 bits of entropy in its
    // encoding; CA/B Forum practice is a full-width value, so draw again.
    if (bytes[0] != 0) break;
  }
  BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return openssl_error(Errc::crypto_error, "cannot encode serial number");
  return serial;
}

}  // namespace tether::x509

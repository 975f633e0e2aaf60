#include "common/hex.h"

#include <cctype>

namespace tether::hex {

namespace {
constexpr char kDigits[] = "0123456789abcdef";
}

void append_byte(std::string& out, unsigned char byte) {
  out += kDigits[byte >> 4];
  out += kDigits[byte & 0xf];
}

std::string encode(std::span<const unsigned char> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) append_byte(out, b);
  return out;
}

std::string openssl_format(std::string_view lowercase_hex) {
  std::string out;
  for (size_t i = 0; i < lowercase_hex.size(); ++i) {
    if (i > 0 && i % 2 == 0) out += ':';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(lowercase_hex[i])));
  }
  return out;
}

std::string canonical_integer(std::string_view digits) {
  bool negative = digits.starts_with('-');
  if (negative) digits.remove_prefix(1);
  std::string out;
  for (char c : digits) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t first = out.find_first_not_of('0');
  out = first == std::string::npos ? "" : out.substr(first);
  if (out.size() % 2 == 1) out.insert(out.begin(), '0');
  if (out.empty()) return "00";
  return (negative ? "-" : "") + out;
}

}  // namespace tether::hex

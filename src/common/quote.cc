#include "common/quote.h"

#include <cstdio>

namespace tether {

std::string quote_value(std::string_view value, char quote) {
  std::string out(1, quote);
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '\\' || c == quote) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", byte);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + quote;
}

}  // namespace tether

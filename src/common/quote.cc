#include "common/quote.h"

#include "common/hex.h"

namespace tether {

std::string quote_value(std::string_view value, char quote) {
  std::string out(1, quote);
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '\\' || c == quote) {
      out += "\\x";
      hex::append_byte(out, byte);
    } else {
      out += c;
    }
  }
  return out + quote;
}

}  // namespace tether

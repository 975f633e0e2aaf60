// ASCII case folding, independent of the C locale (std::tolower is not): for protocol names,
// host names and hex, which are ASCII by definition. Comparing without regard to case is
// boost::beast::iequals.
#pragma once

#include <string>
#include <string_view>

namespace tether {

inline char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower_ascii(c);
  return out;
}

}  // namespace tether

#include "common/duration.h"

#include <charconv>
#include <string>

namespace tether {

Result<int64_t> parse_duration(std::string_view text, std::string_view option) {
  auto bad = [&] {
    return make_error(Errc::invalid_argument, std::string(option) + " '" + std::string(text) +
                                                  "' is not a duration: use e.g. 30d, 24h, 90m "
                                                  "or 3600s");
  };
  if (text.size() < 2) return bad();
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return bad();
  }
  std::string_view digits = text.substr(0, text.size() - 1);
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || n < 0 ||
      n > INT64_C(100) * 366 * 86400 / unit) {
    return bad();
  }
  return n * unit;
}

}  // namespace tether

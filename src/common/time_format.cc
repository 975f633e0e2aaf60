#include "common/time_format.h"

#include <cctype>
#include <cstdio>

namespace tether {

int64_t unix_from_utc(const struct tm& utc) {
  struct tm copy = utc;
  return static_cast<int64_t>(timegm(&copy));
}

std::string format_rfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  // %Y does not promise four digits for years before 1000.
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
  return unix_from_utc(tm) - offset;
}

}  // namespace tether

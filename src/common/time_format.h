// The one way tether writes and reads times: RFC 3339 in UTC ("2026-11-25T23:30:04Z").
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tether {

// Four-digit years always (RFC 3339 5.6).
std::string format_rfc3339(int64_t unix_seconds);
// RFC 3339 5.6 date-time with Z or a numeric offset; the error quotes the value and an example.
Result<int64_t> parse_rfc3339(std::string_view text);
// Seconds since the epoch of a broken-down UTC time (timegm).
int64_t unix_from_utc(const struct tm& utc);

}  // namespace tether

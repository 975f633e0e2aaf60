// Durations written the way operators write them: "30d", "24h", "90m", "3600s".
#pragma once

#include <cstdint>
#include <string_view>

#include "common/error.h"

namespace tether {

// Seconds for "<n>{s,m,h,d}"; the error quotes the value and the accepted forms.
Result<int64_t> parse_duration(std::string_view text, std::string_view option);

}  // namespace tether

// Quoting a user-supplied value inside an error message.
#pragma once

#include <string>
#include <string_view>

namespace tether {

// Wraps `value` in `quote` characters. Control bytes, backslash and the quote character itself
// are written as \xNN, so one error stays one log line and the value's end is unambiguous.
std::string quote_value(std::string_view value, char quote);

}  // namespace tether

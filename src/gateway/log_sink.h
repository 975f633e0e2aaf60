// Where the gateway's log lines go: standard output, one JSON object per line.
//
// Each line leaves in one write(2) of its own, so lines from different event loops never mix
// (writes to a pipe of up to PIPE_BUF bytes, and to a file opened O_APPEND, are atomic) and no
// lock is taken on the request path.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace tether::gateway {

// Writes `line` plus a newline.
void write_log_line(std::string line);

// An operational event (listening, reload, revocation feed, ...): {"time", "event", ...fields}.
void log_event(std::string_view event, boost::json::object fields = {});

// Unix time in milliseconds, for log lines.
int64_t unix_millis();

}  // namespace tether::gateway

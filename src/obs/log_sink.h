// Where the gateway's log lines go: standard output, one JSON object per line.
//
// An event loop's thread buffers its lines (LogBuffer) and writes them out in batches of whole
// lines, each batch at most PIPE_BUF bytes in one write(2): lines from different event loops
// never mix (writes to a pipe of up to PIPE_BUF bytes, and to a file opened O_APPEND, are
// atomic), no lock is taken on the request path, and a busy gateway makes one syscall per
// several requests rather than one each (as nginx's access_log buffer= does). Other threads
// write each line at once.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace tether::obs {

// Writes `line` plus a newline: into this thread's LogBuffer if it has one, else at once.
void write_log_line(std::string_view line);

// While alive, lines written on the constructing thread are buffered until flush(), or until
// they fill PIPE_BUF. Owned by an event loop, which flushes it on a short timer and on exit.
class LogBuffer {
 public:
  LogBuffer();
  ~LogBuffer();
  LogBuffer(const LogBuffer&) = delete;
  LogBuffer& operator=(const LogBuffer&) = delete;

  void append(std::string_view line);
  void flush();

 private:
  std::string pending_;
};

// An operational event (listening, reload, revocation feed, ...): {"time", "event", ...fields}.
void log_event(std::string_view event, boost::json::object fields = {});

// Unix time in milliseconds, for log lines.
int64_t unix_millis();

}  // namespace tether::obs

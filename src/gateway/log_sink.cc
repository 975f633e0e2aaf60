#include "gateway/log_sink.h"

#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>

#include "x509/inspect.h"

namespace tether::gateway {

void write_log_line(std::string line) {
  line += '\n';
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: losing a line must not stop serving
    p += n;
    left -= static_cast<size_t>(n);
  }
}

int64_t unix_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void log_event(std::string_view event, boost::json::object fields) {
  int64_t ms = unix_millis();
  std::string seconds = x509::format_rfc3339(ms / 1000);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
  boost::json::object line{{"time", seconds.substr(0, seconds.size() - 1) + millis},
                           {"event", event}};
  for (auto& field : fields) line.insert_or_assign(field.key(), std::move(field.value()));
  write_log_line(boost::json::serialize(line));
}

}  // namespace tether::gateway

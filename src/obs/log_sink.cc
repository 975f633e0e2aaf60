#include "obs/log_sink.h"

#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <climits>

#include "common/time_format.h"
#include "x509/inspect.h"

namespace tether::obs {

namespace {

thread_local LogBuffer* this_thread_buffer = nullptr;

void write_all(const char* p, size_t left) {
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: losing a line must not stop serving
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

LogBuffer::LogBuffer() {
  this_thread_buffer = this;
}

LogBuffer::~LogBuffer() {
  flush();
  if (this_thread_buffer == this) this_thread_buffer = nullptr;
}

void LogBuffer::append(std::string_view line) {
  if (pending_.size() + line.size() + 1 > PIPE_BUF) flush();
  pending_.append(line);
  pending_ += '\n';
  if (pending_.size() >= PIPE_BUF) flush();  // a single line longer than PIPE_BUF
}

void LogBuffer::flush() {
  if (pending_.empty()) return;
  write_all(pending_.data(), pending_.size());
  pending_.clear();
}

void write_log_line(std::string_view line) {
  if (this_thread_buffer != nullptr) return this_thread_buffer->append(line);
  std::string out;
  out.reserve(line.size() + 1);
  out.append(line);
  out += '\n';
  write_all(out.data(), out.size());
}

int64_t unix_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void log_event(std::string_view event, boost::json::object fields) {
  int64_t ms = unix_millis();
  std::string seconds = format_rfc3339(ms / 1000);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
  boost::json::object line{{"time", seconds.substr(0, seconds.size() - 1) + millis},
                           {"event", event}};
  for (auto& field : fields) line.insert_or_assign(field.key(), std::move(field.value()));
  write_log_line(boost::json::serialize(line));
}

}  // namespace tether::obs

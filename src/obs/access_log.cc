#include "obs/access_log.h"

#include <cstdio>

#include "common/time_format.h"
#include "obs/json_line.h"
#include "x509/inspect.h"

namespace tether::obs {

namespace {

// RFC 3339 with milliseconds, UTC. The seconds part is formatted once per second per thread:
// this runs for every request.
std::string timestamp(int64_t time_ms) {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached_prefix;  // "2027-01-31T12:00:00"
  int64_t second = time_ms / 1000;
  if (second != cached_second) {
    std::string full = format_rfc3339(second);
    cached_prefix = full.substr(0, full.size() - 1);
    cached_second = second;
  }
  int millis = static_cast<int>(time_ms % 1000);
  std::string out = cached_prefix;
  out += '.';
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out += 'Z';
  return out;
}

}  // namespace

std::string handshake_log_line(const HandshakeLogEntry& e) {
  JsonLine line;
  line.field("time", timestamp(e.time_ms))
      .field("event", "handshake")
      .field("peer", e.peer)
      .field("sni", e.sni)
      .field("outcome", e.reason == HandshakeReason::ok ? "accepted" : "rejected")
      .field("reason", reason_token(e.reason))
      .field("alert",
             e.alert_sent < 0 ? std::string_view() : tls_alert_name_for_number(e.alert_sent))
      .field("identity", e.identity)
      .field("serial", e.serial)
      .field("tls_version", e.tls_version)
      .field("cipher", e.cipher)
      .field("resumed", e.resumed)
      .field("duration_ms", e.duration_ms);
  if (!e.detail.empty()) line.field("detail", e.detail);
  return line.take();
}

std::string request_log_line(const RequestLogEntry& e) {
  JsonLine line;
  line.field("time", timestamp(e.time_ms))
      .field("event", "request")
      .field("peer", e.peer)
      .field("identity", e.identity)
      .field("route", e.route)
      .field("method", e.method)
      .field("path", e.path)
      .field("status", e.status)
      .field("bytes_in", e.bytes_in)
      .field("bytes_out", e.bytes_out)
      .field("duration_ms", e.duration_ms);
  if (!e.error.empty()) line.field("error", e.error);
  if (!e.detail.empty()) line.field("detail", e.detail);
  return line.take();
}

}  // namespace tether::obs

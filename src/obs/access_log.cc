#include "obs/access_log.h"

#include <boost/json.hpp>

#include "x509/inspect.h"

namespace tether::obs {

namespace {
std::string timestamp(int64_t time_ms) {
  // RFC 3339 with milliseconds, UTC.
  std::string seconds = x509::format_rfc3339(time_ms / 1000);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(time_ms % 1000));
  return seconds.substr(0, seconds.size() - 1) + millis;
}
}  // namespace

std::string handshake_log_line(const HandshakeLogEntry& e) {
  boost::json::object o{
      {"time", timestamp(e.time_ms)},
      {"event", "handshake"},
      {"peer", e.peer},
      {"sni", e.sni},
      {"outcome", e.reason == tls::HandshakeReason::ok ? "accepted" : "rejected"},
      {"reason", std::string(tls::reason_token(e.reason))},
      {"alert", std::string(tls::alert_name(e.reason))},
      {"identity", e.identity},
      {"serial", e.serial},
      {"tls_version", e.tls_version},
      {"cipher", e.cipher},
      {"resumed", e.resumed},
      {"duration_ms", e.duration_ms},
  };
  if (!e.detail.empty()) o["detail"] = e.detail;
  return boost::json::serialize(o);
}

std::string request_log_line(const RequestLogEntry& e) {
  boost::json::object o{
      {"time", timestamp(e.time_ms)},
      {"event", "request"},
      {"peer", e.peer},
      {"identity", e.identity},
      {"route", e.route},
      {"method", e.method},
      {"path", e.path},
      {"status", e.status},
      {"bytes_in", e.bytes_in},
      {"bytes_out", e.bytes_out},
      {"duration_ms", e.duration_ms},
  };
  if (!e.detail.empty()) o["detail"] = e.detail;
  return boost::json::serialize(o);
}

}  // namespace tether::obs

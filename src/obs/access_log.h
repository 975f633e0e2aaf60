// One JSON line per handshake and per request: what an operator greps when a client says
// "it does not connect". Peer-caused failures are facts about the peer, not errors of ours, so
// they carry no log level; the line is the record.
#pragma once

#include <cstdint>
#include <string>

#include "common/handshake_reason.h"

namespace tether::obs {

struct HandshakeLogEntry {
  int64_t time_ms = 0;  // unix milliseconds
  std::string peer;     // "127.0.0.1:53412"
  std::string sni;
  HandshakeReason reason = HandshakeReason::handshake_failure;
  // The AlertDescription the gateway really sent (RFC 8446 6), -1 when it sent none (the client
  // went away, or the handshake timed out): logged as "alert", "" for none.
  int alert_sent = -1;
  std::string detail;  // what was wrong, with the offending value
  std::string identity;
  std::string serial;
  std::string tls_version;
  std::string cipher;
  double duration_ms = 0;
  bool resumed = false;
};

struct RequestLogEntry {
  int64_t time_ms = 0;
  std::string peer;
  std::string identity;
  std::string route;  // empty when no route matched
  std::string method;
  std::string path;
  int status = 0;
  // The failure's token (common/failures.def) when the gateway answered (or closed) the request
  // itself, e.g. "forbidden"; empty when proxied.
  std::string error;
  std::string detail;  // why the gateway answered itself (403, 502, ...); empty when proxied
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  double duration_ms = 0;
};

// Single-line JSON, no trailing newline. Control characters and non-UTF-8 input are escaped by
// the JSON serializer, so a hostile SNI or path cannot forge a second log line.
std::string handshake_log_line(const HandshakeLogEntry& entry);
std::string request_log_line(const RequestLogEntry& entry);

}  // namespace tether::obs

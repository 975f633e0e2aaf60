// One client connection from accept to close: the mTLS handshake and its log line, then the
// HTTP, WebSocket or TCP proxying its listener port calls for.
#pragma once

#include <memory>
#include <string>

#include "gateway/net.h"
#include "gateway/snapshot.h"
#include "net/tls_stream.h"
#include "verify/identity.h"

namespace tether::gateway {

class Worker;

// A client whose certificate passed every check.
struct ClientConnection {
  ClientConnection(tcp::socket socket, x509::SslPtr ssl)
      : stream(std::move(socket), std::move(ssl)) {}

  net::TlsStream stream;
  std::shared_ptr<const Snapshot> snapshot;  // the rules it was accepted under
  std::string peer;                          // "127.0.0.1:53412"
  std::string sni;                           // "" when the client sent none
  uint16_t port = 0;                         // listener port
  verify::Identity identity;
  std::string identity_name;  // identity.common_name(), for log lines and headers
  std::string client_ip;      // peer without the port, for X-Forwarded-For
  std::string serial_hex;
  std::string fingerprint_sha256;
};

asio::awaitable<void> serve_client(Worker& worker, tcp::socket socket, uint16_t port);

}  // namespace tether::gateway

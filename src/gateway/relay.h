// Raw byte relaying between a client and an upstream: TCP routes (MQTT and other protocols)
// and WebSocket connections after the upgrade. The gateway does not parse what it relays.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <cstdint>

#include "gateway/net.h"
#include "net/tls_stream.h"

namespace tether::gateway {

class Worker;
struct ClientConnection;
struct Route;

struct RelayBytes {
  uint64_t from_client = 0;
  uint64_t from_upstream = 0;
};

// Copies bytes both ways until either side closes or errs, or nothing moved either way for
// `idle`; then shuts both down. Bytes already read into `client_pending` / `upstream_pending`
// are sent first.
asio::awaitable<RelayBytes> relay(net::TlsStream& client, beast::tcp_stream& upstream,
                                  beast::flat_buffer& client_pending,
                                  beast::flat_buffer& upstream_pending, std::chrono::seconds idle);

// A connection on a tcp route's port: authorize, connect, relay. One log line when it ends.
asio::awaitable<void> serve_tcp(Worker& worker, ClientConnection& client, const Route& route);

}  // namespace tether::gateway

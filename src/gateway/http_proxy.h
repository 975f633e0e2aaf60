// HTTP/1.1 on an accepted client connection: keep-alive request loop, per-request routing and
// policy, proxying to pooled upstream connections, and WebSocket upgrades.
#pragma once

#include "gateway/net.h"

namespace tether::gateway {

class Worker;
struct ClientConnection;

// Serves requests until the client closes, a limit or timeout ends the connection, or a
// response cannot keep it open. One log line and one metric per request.
asio::awaitable<void> serve_http(Worker& worker, ClientConnection& client);

}  // namespace tether::gateway

// The admin listener: Prometheus metrics, /healthz and /readyz over plain HTTP, on its own
// port (loopback by default) so that it is never reachable through the mTLS listener.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "common/error.h"
#include "gateway/net.h"

namespace tether::gateway {

struct AdminHandlers {
  std::function<std::string()> metrics;  // Prometheus text
  std::function<bool()> ready;           // /readyz: 200 or 503
};

class AdminServer {
 public:
  AdminServer(asio::io_context& io, AdminHandlers handlers);

  // Binds and starts accepting; returns the port it got.
  Result<uint16_t> listen(const std::string& address, uint16_t port);
  void close();

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);

  asio::io_context& io_;
  AdminHandlers handlers_;
  tcp::acceptor acceptor_;
};

}  // namespace tether::gateway

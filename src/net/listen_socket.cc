#include "net/listen_socket.h"

namespace tether::net {

Result<uint16_t> listen_on(tcp::acceptor& acceptor, const std::string& address, uint16_t port,
                           const ListenOptions& options) {
  error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    return make_error(Errc::invalid_argument, std::string(options.setting) + " '" + address +
                                                  "' is not an IP address: " + ec.message());
  }
  tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only lets a restart bind over connections in TIME_WAIT; on Linux it never lets
  // two listening sockets share a port (SO_REUSEPORT would, and is deliberately not set).
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec == asio::error::address_in_use) {
    return make_error(Errc::io_error, "cannot listen on " + std::string(options.port_setting) +
                                          " " + std::to_string(port) + " (" +
                                          std::string(options.setting) + " " + address +
                                          "): the port is in use by another process; stop it or "
                                          "choose another port");
  }
  if (ec) {
    return make_error(Errc::io_error, "cannot listen on " + std::string(options.setting) + " " +
                                          address + ":" + std::to_string(port) + ": " +
                                          ec.message());
  }
  return acceptor.local_endpoint().port();
}

}  // namespace tether::net

#include "gateway/listen_socket.h"

namespace tether::gateway {

namespace {
// Linux's SO_REUSEPORT: each worker has its own accept queue for the same port, and the kernel
// spreads new connections across them, so workers never contend on one acceptor.
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
}  // namespace

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
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && options.reuse_port) acceptor.set_option(reuse_port(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::io_error, "cannot listen on " + std::string(options.setting) + " " +
                                          address + ":" + std::to_string(port) + ": " +
                                          ec.message());
  }
  return acceptor.local_endpoint().port();
}

}  // namespace tether::gateway

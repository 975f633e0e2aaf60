// Opening a listening TCP socket on a configured address, for the mTLS listeners and the admin
// listener alike.
//
// A port belongs to one process. The socket is bound without SO_REUSEPORT, so a second process
// (an old instance, another config) that tries the same port fails with EADDRINUSE instead of
// silently taking a share of the connections under its own policy; the workers of this process
// share the one socket through duplicated descriptors (see Worker::adopt_listener).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "net/asio.h"

namespace tether::net {

struct ListenOptions {
  // How errors name the address: the setting it came from, e.g. "admin.address".
  std::string_view setting;
  // How errors name the port's setting, e.g. "listener.port" or "route[3].match.port".
  std::string_view port_setting = "port";
};

// Opens, binds and listens `acceptor` on address:port (port 0: the kernel picks) and returns the
// port it got. Errors name the settings, the address and port, and what the system said; a port
// already in use says that another process holds it.
Result<uint16_t> listen_on(tcp::acceptor& acceptor, const std::string& address, uint16_t port,
                           const ListenOptions& options);

}  // namespace tether::net

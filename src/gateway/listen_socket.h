// Opening a listening TCP socket on a configured address, for the mTLS listeners and the admin
// listener alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "gateway/net.h"

namespace tether::gateway {

struct ListenOptions {
  // How errors name the address: the setting it came from, e.g. "admin.address".
  std::string_view setting;
  // SO_REUSEPORT, so several acceptors (one per worker) share the port.
  bool reuse_port = false;
};

// Opens, binds and listens `acceptor` on address:port (port 0: the kernel picks) and returns the
// port it got. Errors name the setting, the address and what the system said.
Result<uint16_t> listen_on(tcp::acceptor& acceptor, const std::string& address, uint16_t port,
                           const ListenOptions& options);

}  // namespace tether::gateway

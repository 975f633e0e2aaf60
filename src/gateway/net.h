// The networking names the gateway's code uses unqualified: Boost.Asio / Beast and the
// completion-token helpers of net/asio.h.
#pragma once

#include "net/asio.h"

namespace tether::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using net::ec_token;
using net::error_code;
using net::seconds;
using net::tcp;

}  // namespace tether::gateway

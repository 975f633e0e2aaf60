// The Boost.Asio / Beast names tether's networking code shares.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>

namespace tether::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Completion token for coroutine calls whose errors are answered, not thrown:
//   co_await op(..., ec_token(ec));
inline auto ec_token(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

inline std::chrono::seconds seconds(int64_t s) {
  return std::chrono::seconds(s);
}

}  // namespace tether::net

// A deadline on a socket's operations: when it passes, the socket's pending operations are
// cancelled and read as beast::error::timeout (like beast::tcp_stream's expires_after).
//
// Cheap to move around on the request path: pushing the deadline later never touches the timer
// (it fires at the old time and re-arms itself for the new one, as nginx's lazy timers do), so
// a keep-alive connection re-arms about once per deadline period, not several times a request.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "net/asio.h"

namespace tether::net {

class SocketDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SocketDeadline(tcp::socket& socket);
  ~SocketDeadline();
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;

  void expires_after(Clock::duration timeout);
  void expires_never();

  bool expired() const { return state_->expired; }
  // operation_aborted after the deadline passed reads as beast::error::timeout.
  error_code translate(const error_code& ec) const;

 private:
  // Shared with the timer's handler, which may run after this object is gone.
  struct State {
    tcp::socket* socket = nullptr;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_for = Clock::time_point::max();  // max: timer not armed
    bool expired = false;
  };
  static void arm(asio::steady_timer& timer, const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
  std::unique_ptr<asio::steady_timer> timer_;  // heap: the handler re-arms it by pointer
};

}  // namespace tether::net

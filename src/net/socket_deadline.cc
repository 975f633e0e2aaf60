#include "net/socket_deadline.h"

#include <boost/beast/core/error.hpp>

namespace tether::net {

SocketDeadline::SocketDeadline(tcp::socket& socket)
    : state_(std::make_shared<State>()),
      timer_(std::make_unique<asio::steady_timer>(socket.get_executor())) {
  state_->socket = &socket;
}

SocketDeadline::~SocketDeadline() {
  state_->socket = nullptr;
  // The timer goes with this object; a handler still queued holds only the state.
}

void SocketDeadline::arm(asio::steady_timer& timer, const std::shared_ptr<State>& state) {
  state->armed_for = state->deadline;
  timer.expires_at(state->deadline);
  timer.async_wait([weak = std::weak_ptr<State>(state), &timer](error_code ec) {
    auto s = weak.lock();
    if (ec || !s || s->socket == nullptr) return;  // cancelled, or its owner is gone
    s->armed_for = Clock::time_point::max();
    if (s->deadline == Clock::time_point::max()) return;
    if (Clock::now() < s->deadline) return arm(timer, s);  // moved later meanwhile
    s->expired = true;
    error_code ignored;
    s->socket->cancel(ignored);
  });
}

void SocketDeadline::expires_after(Clock::duration timeout) {
  state_->expired = false;
  state_->deadline = Clock::now() + timeout;
  // Armed for an earlier time: it fires then and re-arms for the new deadline.
  if (state_->armed_for <= state_->deadline) return;
  arm(*timer_, state_);
}

void SocketDeadline::expires_never() {
  state_->expired = false;
  state_->deadline = Clock::time_point::max();
}

error_code SocketDeadline::translate(const error_code& ec) const {
  if (ec == asio::error::operation_aborted && state_->expired) return beast::error::timeout;
  return ec;
}

}  // namespace tether::net

#include "gateway/upstream.h"

#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>

namespace tether::gateway {

namespace {

// True when the upstream closed (or reset) an idle connection, or sent bytes nobody asked for.
// One non-blocking peek: cheaper than a failed request and a retry.
bool unusable(beast::tcp_stream& stream) {
  char byte;
  ssize_t n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || n > 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

}  // namespace

std::string upstream_key(const Route& route) {
  return route.upstream_host + ":" + std::to_string(route.upstream_port);
}

asio::awaitable<error_code> connect_upstream(beast::tcp_stream& stream, const Route& route,
                                             std::chrono::seconds timeout) {
  error_code ec;
  stream.expires_after(timeout);
  auto address = asio::ip::make_address(route.upstream_host, ec);
  if (!ec) {
    co_await stream.async_connect(tcp::endpoint(address, route.upstream_port), ec_token(ec));
    co_return ec;
  }
  ec.clear();
  tcp::resolver resolver(stream.get_executor());
  auto endpoints = co_await resolver.async_resolve(
      route.upstream_host, std::to_string(route.upstream_port), ec_token(ec));
  if (ec) co_return ec;
  co_await stream.async_connect(endpoints, ec_token(ec));
  co_return ec;
}

UpstreamConnectionPtr UpstreamPool::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& stack = it->second;
  auto now = std::chrono::steady_clock::now();
  while (!stack.empty()) {
    Idle idle = std::move(stack.back());
    stack.pop_back();
    // Peeking costs a syscall per request, so only connections idle for a while are checked;
    // a fresher one the upstream closed is retried by the caller (idempotent requests).
    bool check = now - idle.since > kPeekAfterIdle;
    if (now - idle.since > kMaxIdle || (check && unusable(idle.connection->stream))) {
      error_code ignored;
      idle.connection->stream.socket().close(ignored);
      continue;
    }
    return std::move(idle.connection);
  }
  return nullptr;
}

void UpstreamPool::give_back(const std::string& key, UpstreamConnectionPtr connection) {
  auto& stack = idle_[key];
  if (stack.size() >= kMaxIdlePerUpstream) {
    // The oldest is the likeliest to be closed by the upstream soon.
    error_code ignored;
    stack.front().connection->stream.socket().close(ignored);
    stack.pop_front();
  }
  connection->stream.expires_never();
  connection->deadline.expires_never();
  stack.push_back(Idle{std::move(connection), std::chrono::steady_clock::now()});
}

}  // namespace tether::gateway

namespace tether::gateway {

void UpstreamPool::sweep() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& stack = it->second;
    std::erase_if(stack, [&](Idle& idle) {
      if (now - idle.since <= kMaxIdle && !unusable(idle.connection->stream)) return false;
      error_code ignored;
      idle.connection->stream.socket().close(ignored);
      return true;
    });
    it = stack.empty() ? idle_.erase(it) : std::next(it);
  }
}

}  // namespace tether::gateway

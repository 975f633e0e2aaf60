#include "gateway/relay.h"

#include <array>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "gateway/connection.h"
#include "gateway/policy.h"
#include "gateway/upstream.h"
#include "gateway/worker.h"
#include "obs/access_log.h"
#include "obs/log_sink.h"

namespace tether::gateway {

namespace {

using Clock = std::chrono::steady_clock;

struct RelayState {
  net::TlsStream& client;
  beast::tcp_stream& upstream;
  asio::steady_timer watchdog;
  Clock::time_point last_activity = Clock::now();
  bool done = false;

  // Ends both directions: pending reads and writes complete with errors.
  void finish() {
    if (done) return;
    done = true;
    error_code ignored;
    client.socket().shutdown(tcp::socket::shutdown_both, ignored);
    upstream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    watchdog.cancel();
  }
};

template <class From, class To>
asio::awaitable<void> pump(RelayState& state, From& from, To& to, beast::flat_buffer& pending,
                           uint64_t& moved) {
  error_code ec;
  if (pending.size() > 0) {
    moved += co_await asio::async_write(to, pending.data(), ec_token(ec));
    pending.consume(pending.size());
  }
  std::array<char, 16384> buffer;
  while (!ec && !state.done) {
    size_t n = co_await from.async_read_some(asio::buffer(buffer), ec_token(ec));
    if (ec) break;
    state.last_activity = Clock::now();
    co_await asio::async_write(to, asio::buffer(buffer.data(), n), ec_token(ec));
    moved += n;
    state.last_activity = Clock::now();
  }
  state.finish();
}

asio::awaitable<void> watch_idle(RelayState& state, std::chrono::seconds idle) {
  while (!state.done) {
    state.watchdog.expires_at(state.last_activity + idle);
    error_code ec;
    co_await state.watchdog.async_wait(ec_token(ec));
    if (!state.done && Clock::now() >= state.last_activity + idle) state.finish();
  }
}

}  // namespace

asio::awaitable<RelayBytes> relay(net::TlsStream& client, beast::tcp_stream& upstream,
                                  beast::flat_buffer& client_pending,
                                  beast::flat_buffer& upstream_pending, std::chrono::seconds idle) {
  using namespace asio::experimental::awaitable_operators;
  // The relay keeps its own idle deadline: per-operation timeouts would cut a connection whose
  // traffic happens to flow one way only for a while.
  client.expires_never();
  upstream.expires_never();
  RelayState state{client, upstream, asio::steady_timer(upstream.get_executor())};
  RelayBytes bytes;
  co_await (pump(state, client, upstream, client_pending, bytes.from_client) &&
            pump(state, upstream, client, upstream_pending, bytes.from_upstream) &&
            watch_idle(state, idle));
  co_return bytes;
}

asio::awaitable<void> serve_tcp(Worker& worker, ClientConnection& client, const Route& route) {
  const Snapshot& snapshot = *client.snapshot;
  auto started = Clock::now();
  obs::RequestLogEntry entry;
  entry.time_ms = obs::unix_millis();
  entry.peer = client.peer;
  entry.identity = client.identity_name;
  entry.route = route.name;
  entry.method = "TCP";

  // Nothing to answer a failure in (the protocol is not ours): the connection is closed, and
  // the log line and tether_request_errors_total say why.
  auto fail = [&](Errc code, std::string detail) {
    entry.status = http_status(code);
    entry.error = std::string(errc_reason(code));
    entry.detail = std::move(detail);
    worker.shared().metrics.request_failed(code);
  };
  Decision decision = authorize(route, client.identity);
  if (!decision.allowed) {
    fail(Errc::forbidden, decision.reason);
  } else {
    beast::tcp_stream upstream(worker.io());
    error_code ec = co_await connect_upstream(upstream, route,
                                              seconds(snapshot.config.limits.upstream_timeout_s));
    if (ec) {
      fail(ec == beast::error::timeout ? Errc::upstream_timeout : Errc::bad_gateway,
           "upstream " + snapshot.upstream_key(route) + ": " + ec.message());
    } else {
      beast::flat_buffer none_from_client, none_from_upstream;
      RelayBytes bytes =
          co_await relay(client.stream, upstream, none_from_client, none_from_upstream,
                         seconds(snapshot.config.limits.idle_timeout_s));
      entry.status = 200;
      entry.bytes_in = bytes.from_client;
      entry.bytes_out = bytes.from_upstream;
    }
  }
  entry.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  snapshot.metrics_for(route).request(entry.status, entry.duration_ms / 1000);
  obs::write_log_line(obs::request_log_line(entry));
}

}  // namespace tether::gateway

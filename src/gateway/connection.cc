#include "gateway/connection.h"

#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "gateway/http_proxy.h"
#include "gateway/relay.h"
#include "gateway/worker.h"
#include "net/socket_deadline.h"
#include "obs/access_log.h"
#include "obs/log_sink.h"
#include "tls/session_binding.h"

namespace tether::gateway {

namespace {

constexpr std::chrono::seconds kLingerTime{2};
constexpr std::chrono::seconds kCloseNotifyTime{2};

double millis_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Counts the connection for max_connections and the active-connections gauge, until it ends.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(SharedState& shared) : shared_(shared) {
    count_ = shared_.open_connections.fetch_add(1, std::memory_order_relaxed) + 1;
    // Racy by design: a high-water mark only decides when memory is worth giving back.
    if (count_ > shared_.open_high_water.load(std::memory_order_relaxed)) {
      shared_.open_high_water.store(count_, std::memory_order_relaxed);
    }
    shared_.metrics.connection_opened();
  }
  ~ConnectionSlot() {
    shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    shared_.metrics.connection_closed();
  }
  uint64_t count() const { return count_; }

 private:
  SharedState& shared_;
  uint64_t count_;
};

// Counts the connection against limits.max_connections_per_source while it is open.
class SourceSlot {
 public:
  SourceSlot(SourceCounts& counts, std::string ip)
      : counts_(counts), ip_(std::move(ip)), count_(counts_.add(ip_)) {}
  ~SourceSlot() { counts_.remove(ip_); }
  SourceSlot(const SourceSlot&) = delete;
  SourceSlot& operator=(const SourceSlot&) = delete;
  uint32_t count() const { return count_; }

 private:
  SourceCounts& counts_;
  std::string ip_;
  uint32_t count_;
};

// One line and one count (tether_connections_refused_total) per connection closed before TLS.
void refuse_connection(SharedState& shared, const std::string& peer, Errc reason,
                       std::string detail) {
  obs::log_event("connection_refused",
                 {{"peer", peer}, {"reason", errc_reason(reason)}, {"detail", detail}});
  shared.metrics.connection_refused(reason);
}

// After a refused handshake OpenSSL has queued the alert and Asio has written it. Closing now,
// with client bytes unread (a TLS 1.3 client may already be sending its request), would turn
// into a TCP reset that can destroy the alert before the client reads it: stop sending, then
// read until the client closes, for a bounded time.
asio::awaitable<void> linger_close(tcp::socket& socket) {
  error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  asio::steady_timer limit(socket.get_executor(), kLingerTime);
  limit.async_wait([&socket](error_code timer_ec) {
    error_code ignored;
    if (!timer_ec) socket.cancel(ignored);
  });
  char discard[4096];
  size_t total = 0;
  while (!ec && total < (64u << 10)) {
    total += co_await socket.async_read_some(asio::buffer(discard), ec_token(ec));
  }
  limit.cancel();
  socket.close(ec);
}

void log_handshake(const ClientConnection& c, SSL* ssl, const tls::HandshakeOutcome& outcome,
                   double duration_ms, std::string detail) {
  obs::HandshakeLogEntry entry;
  entry.time_ms = obs::unix_millis();
  entry.peer = c.peer;
  entry.sni = c.sni;
  entry.reason = outcome.reason;
  entry.alert_sent = outcome.alert_sent;
  entry.detail = std::move(detail);
  if (outcome.identity) entry.identity = outcome.identity->common_name();
  entry.serial = outcome.serial_hex;
  entry.tls_version = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
    entry.cipher = SSL_CIPHER_get_name(cipher);
  }
  entry.duration_ms = duration_ms;
  entry.resumed = SSL_session_reused(ssl) == 1;
  obs::write_log_line(obs::handshake_log_line(entry));
}

}  // namespace

asio::awaitable<void> serve_client(Worker& worker, tcp::socket socket, uint16_t port) {
  std::shared_ptr<const Snapshot> snapshot = worker.snapshot();
  const LimitsConfig& limits = snapshot->config.limits;
  ConnectionSlot slot(worker.shared());
  PeerAddress peer = peer_address(socket);
  if (slot.count() > limits.max_connections) {
    // Refused before TLS: the cheapest answer to a flood, and nothing to log per connection
    // beyond this line.
    refuse_connection(worker.shared(), peer.text, Errc::max_connections,
                      "limits.max_connections = " + std::to_string(limits.max_connections) +
                          " connections are open");
    co_return;
  }
  const ListenerConfig& listener = snapshot->config.listener;
  if (listener.proxy_protocol) {
    // Only the named balancers may say who the client is; anyone else is refused before a
    // byte is read (fail closed: a direct client must not pass for a balanced one).
    error_code ec;
    auto from = asio::ip::make_address(peer.ip, ec);
    if (ec || !listener.proxy_protocol_from.contains(from)) {
      refuse_connection(worker.shared(), peer.text, Errc::proxy_protocol_untrusted,
                        "the listener takes PROXY protocol headers only from "
                        "listener.proxy_protocol_from, and " +
                            peer.ip + " is not in it");
      co_return;
    }
    auto origin = co_await read_proxy_origin(socket, peer, seconds(limits.handshake_timeout_s));
    if (!origin) {
      refuse_connection(worker.shared(), peer.text, Errc::proxy_protocol_invalid,
                        origin.error().message);
      co_return;
    }
    peer = std::move(origin).value();
  }
  std::optional<SourceSlot> source;
  if (limits.max_connections_per_source > 0) {
    source.emplace(worker.shared().sources, peer.ip);
    if (source->count() > limits.max_connections_per_source) {
      refuse_connection(worker.shared(), peer.text, Errc::max_connections_per_source,
                        "limits.max_connections_per_source = " +
                            std::to_string(limits.max_connections_per_source) +
                            " connections are open from " + peer.ip);
      co_return;
    }
  }
  error_code nodelay_ec;
  socket.set_option(tcp::no_delay(true), nodelay_ec);

  // Nothing is allocated for TLS until the client sends its first bytes: a connection that
  // opens and waits (a scanner, a flood, a client behind a stalled proxy) holds only its socket
  // and this coroutine, not an SSL object and OpenSSL's buffers.
  auto accepted = std::chrono::steady_clock::now();
  auto handshake_deadline = accepted + seconds(limits.handshake_timeout_s);
  {
    net::SocketDeadline first_bytes(socket);
    first_bytes.expires_after(seconds(limits.handshake_timeout_s));
    error_code ec;
    co_await socket.async_wait(tcp::socket::wait_read, ec_token(ec));
    if (first_bytes.translate(ec) == beast::error::timeout) {
      refuse_connection(worker.shared(), peer.text, Errc::handshake_timeout,
                        "no ClientHello within limits.handshake_timeout (" +
                            std::to_string(limits.handshake_timeout_s) + "s)");
      co_return;
    }
    if (ec) co_return;
    // Readable because the peer closed without sending anything (a port scan, a health check,
    // a flood giving up): nothing to handshake with, and nothing worth a log line.
    char byte;
    if (::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) co_return;
  }

  auto ssl = snapshot->tls[worker.index()]->new_ssl();
  if (!ssl.ok()) {
    obs::log_event("connection_failed", {{"peer", peer.text}, {"error", ssl.error().message}});
    co_return;
  }
  auto conn = std::make_shared<ClientConnection>(std::move(socket), std::move(ssl).value());
  conn->snapshot = snapshot;
  conn->peer = std::move(peer.text);
  conn->client_ip = std::move(peer.ip);
  conn->port = port;
  SSL* native = conn->stream.native_handle();

  auto started = std::chrono::steady_clock::now();
  conn->stream.expires_after(handshake_deadline - started);
  error_code ec;
  co_await conn->stream.async_handshake(ec_token(ec));
  double duration_ms = millis_since(started);
  unsigned long ssl_error = ec && ec.category() == asio::error::get_ssl_category()
                                ? static_cast<unsigned long>(ec.value())
                                : 0;
  const tls::HandshakeOutcome& outcome = tls::conclude_handshake(native, ec ? 0 : 1, ssl_error);
  conn->sni = tls::client_hello_server_name(native);

  std::string detail = outcome.detail;
  if (ec == beast::error::timeout) {
    detail = "no complete handshake within limits.handshake_timeout (" +
             std::to_string(limits.handshake_timeout_s) + "s)";
  } else if (ec && detail.empty()) {
    detail = ec.message();
  }
  log_handshake(*conn, native, outcome, duration_ms, std::move(detail));
  worker.shared().metrics.handshake(outcome.reason);
  worker.record_handshake(outcome);
  if (!outcome.ok()) {
    if (ec != beast::error::timeout) co_await linger_close(conn->stream.socket());
    co_return;
  }
  conn->identity = *outcome.identity;
  conn->identity_name = conn->identity.common_name();
  conn->serial_hex = outcome.serial_hex;
  conn->fingerprint_sha256 = outcome.fingerprint_sha256;

  // Registered before the revocation re-check: a revocation applied between the handshake's
  // check and this line either finds the connection in the registry or is seen right here.
  std::weak_ptr<ClientConnection> weak = conn;
  auto handle = worker.live().add(conn->serial_hex, conn->identity_name, [weak] {
    if (auto c = weak.lock()) c->stream.shut_down();
  });
  if (!worker.shared().revocation.is_revoked(conn->serial_hex)) {
    if (const Route* route = match_tcp_route(snapshot->routes, port)) {
      co_await serve_tcp(worker, *conn, *route);
    } else {
      co_await serve_http(worker, *conn);
    }
  }
  worker.live().remove(handle);

  // close_notify (RFC 8446 6.1), then close.
  conn->stream.expires_after(kCloseNotifyTime);
  co_await conn->stream.async_shutdown(ec_token(ec));
}

}  // namespace tether::gateway

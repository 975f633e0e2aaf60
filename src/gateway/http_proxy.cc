#include "gateway/http_proxy.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <optional>

#include "gateway/connection.h"
#include "gateway/forward_headers.h"
#include "gateway/http_wire.h"
#include "gateway/log_sink.h"
#include "gateway/relay.h"
#include "gateway/request_decision.h"
#include "gateway/request_framing.h"
#include "gateway/socket_deadline.h"
#include "gateway/upstream.h"
#include "gateway/worker.h"
#include "obs/access_log.h"

namespace tether::gateway {

namespace {

namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr uint32_t kMaxResponseHeaderBytes = 64 << 10;
constexpr size_t kKeptReadBuffer = 4096;

// What one request came to, for its log line and the keep-alive decision.
struct Exchange {
  obs::RequestLogEntry log;
  const Route* route = nullptr;
  bool keep_alive = false;
};

bool timed_out(const error_code& ec) {
  return ec == beast::error::timeout;
}

bool idempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::options:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

// A response the gateway makes itself: a JSON body saying what was wrong.
asio::awaitable<error_code> answer(ClientConnection& c, int status, std::string body,
                                   unsigned version, bool keep_alive, Exchange& x) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "tether");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  x.log.status = status;
  x.log.bytes_out = res.body().size();
  x.keep_alive = keep_alive;
  c.stream.expires_after(seconds(c.snapshot->config.limits.idle_timeout_s));
  co_return co_await write_message(c.stream, response_head(res), res.body());
}

std::string error_body(std::string_view error, std::string_view reason) {
  RequestDecision d;
  d.error = error;
  d.reason = reason;
  return refusal_body(d);
}

// The client learns that the route's upstream failed, never where it lives: the upstream's
// address and the system's error stay in the request's log line.
std::string upstream_failure_body(int status, const Route& route) {
  RequestDecision d;
  d.route = &route;
  if (status == 504) {
    d.error = "upstream_timeout";
    d.reason = "the upstream of this route did not answer in time";
  } else {
    d.error = "bad_gateway";
    d.reason = "the upstream of this route could not be reached or did not answer";
  }
  return refusal_body(d);
}

// Sends the request on a pooled or new upstream connection and reads the whole response.
// A pooled connection the upstream closed meanwhile is retried once on a fresh one, for
// idempotent methods (RFC 9110 9.2.2), as nginx and Envoy do.
// `snapshot` is the connection's: the one `route` belongs to (the worker's may be newer).
asio::awaitable<std::optional<Response>> exchange_with_upstream(Worker& worker,
                                                                const Snapshot& snapshot,
                                                                const Route& route, Request& req,
                                                                Exchange& x, int& failure_status) {
  const LimitsConfig& limits = snapshot.config.limits;
  const std::string& key = snapshot.upstream_key(route);
  for (int attempt = 0; attempt < 2; ++attempt) {
    UpstreamConnectionPtr upstream = worker.pool().take(key);
    bool reused = upstream != nullptr;
    if (!reused) upstream = std::make_unique<UpstreamConnection>(worker.io());
    error_code ec;
    if (!reused) {
      ec = co_await connect_upstream(upstream->stream, route, seconds(limits.upstream_timeout_s));
      if (ec) {
        failure_status = timed_out(ec) ? 504 : 502;
        x.log.detail =
            "cannot connect to upstream " + key + ": " +
            (timed_out(ec) ? "no connection within limits.upstream_timeout" : ec.message());
        co_return std::nullopt;
      }
    }
    // Straight on the socket, with one deadline for the whole exchange (no per-operation
    // timers as beast::tcp_stream would arm).
    upstream->stream.expires_never();
    tcp::socket& socket = upstream->stream.socket();
    SocketDeadline& deadline = upstream->deadline;
    deadline.expires_after(seconds(limits.upstream_timeout_s));
    ec = co_await write_message(socket, request_head(req), req.body());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.header_limit(kMaxResponseHeaderBytes);
    parser.body_limit(limits.max_body_bytes);
    if (req.method() == http::verb::head) parser.skip(true);
    if (!ec) ec = co_await read_message(socket, buffer, parser, /*header_only=*/false);
    ec = deadline.translate(ec);
    if (ec) {
      bool nothing_received = !parser.got_some();
      if (reused && nothing_received && !timed_out(ec) && idempotent(req.method())) continue;
      failure_status = timed_out(ec) ? 504 : 502;
      x.log.detail = "upstream " + key + ": " +
                     (timed_out(ec) ? std::string("no response within limits.upstream_timeout (") +
                                          std::to_string(limits.upstream_timeout_s) + "s)"
                                    : ec.message());
      co_return std::nullopt;
    }
    Response res = parser.release();
    if (res.keep_alive() && buffer.size() == 0) {
      worker.pool().give_back(key, std::move(upstream));
    } else {
      upstream->stream.close();
    }
    co_return res;
  }
  failure_status = 502;
  x.log.detail = "upstream " + key + " closed two connections before answering";
  co_return std::nullopt;
}

asio::awaitable<void> proxy_http(Worker& worker, ClientConnection& c, const Route& route,
                                 Request req, Exchange& x) {
  bool client_keep_alive = req.keep_alive();
  unsigned version = req.version();
  http::verb method = req.method();
  rewrite_request_fields(req.base(),
                         ForwardedFor{c.identity, c.identity_name, c.fingerprint_sha256,
                                      c.client_ip, std::string(req[http::field::host])},
                         /*upgrade=*/false);
  req.version(11);
  req.keep_alive(true);
  req.prepare_payload();
  int failure_status = 502;
  std::optional<Response> res =
      co_await exchange_with_upstream(worker, *c.snapshot, route, req, x, failure_status);
  if (!res) {
    co_await answer(c, failure_status, upstream_failure_body(failure_status, route), version,
                    client_keep_alive, x);
    co_return;
  }
  rewrite_response_fields(res->base(), /*upgrade=*/false);
  res->version(version);
  res->keep_alive(client_keep_alive);
  if (method != http::verb::head) res->prepare_payload();
  x.log.status = res->result_int();
  x.log.bytes_out = res->body().size();
  x.keep_alive = client_keep_alive;
  c.stream.expires_after(seconds(c.snapshot->config.limits.idle_timeout_s));
  std::string_view body = method == http::verb::head ? std::string_view() : res->body();
  error_code ec = co_await write_message(c.stream, response_head(*res), body);
  if (ec) x.keep_alive = false;
}

// The WebSocket handshake goes to a dedicated upstream connection (never pooled: it becomes a
// tunnel). On 101 both sides are relayed raw until either closes.
asio::awaitable<void> proxy_websocket(Worker& worker, ClientConnection& c, const Route& route,
                                      Request req, beast::flat_buffer& client_buffer, Exchange& x) {
  const LimitsConfig& limits = c.snapshot->config.limits;
  x.keep_alive = false;
  unsigned version = req.version();
  rewrite_request_fields(req.base(),
                         ForwardedFor{c.identity, c.identity_name, c.fingerprint_sha256,
                                      c.client_ip, std::string(req[http::field::host])},
                         /*upgrade=*/true);
  beast::tcp_stream upstream(worker.io());
  error_code ec = co_await connect_upstream(upstream, route, seconds(limits.upstream_timeout_s));
  beast::flat_buffer upstream_buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeaderBytes);
  parser.body_limit(limits.max_body_bytes);
  if (!ec) {
    upstream.expires_after(seconds(limits.upstream_timeout_s));
    co_await http::async_write(upstream, req, ec_token(ec));
  }
  if (!ec) co_await http::async_read_header(upstream, upstream_buffer, parser, ec_token(ec));
  if (!ec && parser.get().result() != http::status::switching_protocols && !parser.is_done()) {
    co_await http::async_read(upstream, upstream_buffer, parser, ec_token(ec));
  }
  if (ec) {
    int status = timed_out(ec) ? 504 : 502;
    x.log.detail = "upstream " + c.snapshot->upstream_key(route) + ": " + ec.message();
    co_await answer(c, status, upstream_failure_body(status, route), version, false, x);
    co_return;
  }
  Response res = parser.release();
  bool upgraded = res.result() == http::status::switching_protocols;
  rewrite_response_fields(res.base(), upgraded);
  x.log.status = res.result_int();
  c.stream.expires_after(seconds(limits.idle_timeout_s));
  if (!upgraded) {
    // The upstream refused the upgrade: pass its answer on, then close.
    res.keep_alive(false);
    res.prepare_payload();
    x.log.bytes_out = res.body().size();
    co_await http::async_write(c.stream, res, ec_token(ec));
    co_return;
  }
  http::response<http::empty_body> switching;
  switching.base() = std::move(res.base());
  switching.version(version);
  http::response_serializer<http::empty_body> serializer(switching);
  co_await http::async_write_header(c.stream, serializer, ec_token(ec));
  if (ec) co_return;
  RelayBytes bytes = co_await relay(c.stream, upstream, client_buffer, upstream_buffer,
                                    seconds(limits.idle_timeout_s));
  x.log.bytes_in += bytes.from_client;
  x.log.bytes_out += bytes.from_upstream;
}

// One request, from parsed head to response written.
asio::awaitable<void> handle_request(Worker& worker, ClientConnection& c,
                                     http::request_parser<http::string_body>& parser,
                                     beast::flat_buffer& buffer, Exchange& x) {
  const Snapshot& snapshot = *c.snapshot;
  const LimitsConfig& limits = snapshot.config.limits;
  auto& head = parser.get();
  x.log.method = std::string(head.method_string());
  RequestHead request_head{head.target(), head[http::field::host], head.count(http::field::host),
                           c.sni, c.port};
  RequestDecision decision = decide_request(snapshot.routes, request_head, c.identity);
  x.route = decision.route;
  // The log names the path as routed; a target refused before parsing is logged as received.
  x.log.path = decision.target.path.empty() ? std::string(head.target()) : decision.target.path;
  if (!decision.proxy()) {
    x.log.detail = decision.reason;
    // The body of a refused request is never read; keep the connection only if it has none.
    bool keep = head.keep_alive() && parser.is_done() && decision.status != 400;
    co_await answer(c, decision.status, refusal_body(decision), head.version(), keep, x);
    co_return;
  }
  const Route& route = *decision.route;
  bool upgrade = route.protocol == Protocol::websocket && beast::websocket::is_upgrade(head);

  if (!parser.is_done()) {
    error_code ec;
    parser.eager(true);
    c.stream.expires_after(seconds(limits.idle_timeout_s));
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      ec = co_await write_all(c.stream, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (!ec) ec = co_await read_message(c.stream, buffer, parser, /*header_only=*/false);
    if (ec == http::error::body_limit) {
      x.log.detail =
          "request body over limits.max_body_bytes (" + std::to_string(limits.max_body_bytes) + ")";
      co_await answer(c, 413, error_body("body_too_large", x.log.detail), head.version(), false, x);
      co_return;
    }
    if (ec) {
      x.log.status = 400;
      x.log.detail = "reading the request body: " + ec.message();
      x.keep_alive = false;
      co_return;
    }
  }
  Request req = parser.release();
  x.log.bytes_in = req.body().size();
  // What the route was matched on is what the upstream receives.
  req.target(decision.target.forward);
  req.set(http::field::host, decision.host);
  if (upgrade) {
    co_await proxy_websocket(worker, c, route, std::move(req), buffer, x);
  } else {
    co_await proxy_http(worker, c, route, std::move(req), x);
  }
}

}  // namespace

asio::awaitable<void> serve_http(Worker& worker, ClientConnection& c) {
  const LimitsConfig& limits = c.snapshot->config.limits;
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    error_code ec;
    if (!first && buffer.size() == 0) {
      // Between requests the idle timeout applies; the header timeout starts with the first
      // byte of the next request.
      // An idle keep-alive connection gives a large buffer back (nginx does too): memory per
      // idle connection is what a gateway with many devices pays. A small one is kept, since
      // freeing and reallocating it on every request costs more than it saves.
      if (buffer.capacity() > kKeptReadBuffer) buffer.shrink_to_fit();
      c.stream.expires_after(seconds(limits.idle_timeout_s));
      size_t n = co_await c.stream.async_read_some(buffer.prepare(512), ec_token(ec));
      if (ec) co_return;
      buffer.commit(n);
    }
    c.stream.expires_after(seconds(limits.header_timeout_s));
    http::request_parser<http::string_body> parser;
    // Not eager while reading the head: nothing of a body is parsed before its framing and its
    // route were checked (request_framing.h).
    parser.eager(false);
    parser.header_limit(limits.max_header_bytes);
    parser.body_limit(limits.max_body_bytes);
    ec = co_await read_message(c.stream, buffer, parser, /*header_only=*/true);

    Exchange x;
    x.log.time_ms = unix_millis();
    x.log.peer = c.peer;
    x.log.identity = c.identity_name;
    auto started = Clock::now();
    if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::operation_aborted || ec == asio::error::eof ||
        (ec && !parser.got_some())) {
      co_return;  // closed, revoked, or idle before sending anything: nothing to answer
    }
    if (timed_out(ec)) {
      // Slowloris: headers still incomplete. Logged, and the connection is closed unanswered
      // (as nginx does), since the client is not reading anyway.
      x.log.status = 408;
      x.log.detail = "request headers incomplete after limits.header_timeout (" +
                     std::to_string(limits.header_timeout_s) + "s)";
      write_log_line(obs::request_log_line(x.log));
      co_return;
    }
    if (ec == http::error::body_limit) {
      x.log.detail =
          "request body over limits.max_body_bytes (" + std::to_string(limits.max_body_bytes) + ")";
      co_await answer(c, 413, error_body("body_too_large", x.log.detail), 11, false, x);
    } else if (ec == http::error::header_limit) {
      x.log.detail = "request headers over limits.max_header_bytes (" +
                     std::to_string(limits.max_header_bytes) + ")";
      co_await answer(c, 431, error_body("headers_too_large", x.log.detail), 11, false, x);
    } else if (ec) {
      x.log.detail = "malformed request: " + ec.message();
      co_await answer(c, 400, error_body("bad_request", x.log.detail), 11, false, x);
    } else if (auto refusal = check_request_framing(parser.get())) {
      // Refused before routing, and the connection closed: its next bytes cannot be trusted to
      // start a request.
      x.log.method = std::string(parser.get().method_string());
      x.log.detail = refusal->reason;
      co_await answer(
          c, refusal->status,
          error_body(refusal->status == 501 ? "not_implemented" : "bad_request", refusal->reason),
          11, false, x);
    } else {
      co_await handle_request(worker, c, parser, buffer, x);
    }
    x.log.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    if (x.route != nullptr) {
      c.snapshot->metrics_for(*x.route).request(x.log.status, x.log.duration_ms / 1000);
    }
    if (x.route != nullptr) x.log.route = x.route->name;
    write_log_line(obs::request_log_line(x.log));
    if (!x.keep_alive) co_return;
  }
}

}  // namespace tether::gateway

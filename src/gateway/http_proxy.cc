#include "gateway/http_proxy.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <optional>

#include "gateway/body_stream.h"
#include "gateway/connection.h"
#include "gateway/forward_headers.h"
#include "gateway/relay.h"
#include "gateway/request_decision.h"
#include "gateway/request_framing.h"
#include "gateway/upstream.h"
#include "gateway/worker.h"
#include "net/http_wire.h"
#include "net/socket_deadline.h"
#include "obs/access_log.h"
#include "obs/log_sink.h"

namespace tether::gateway {

namespace {

namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using Response = http::response<http::string_body>;

constexpr uint32_t kMaxResponseHeaderBytes = 64 << 10;
constexpr size_t kKeptReadBuffer = 4096;

// What one request came to, for its log line, its counters and the keep-alive decision.
struct Exchange {
  obs::RequestLogEntry log;
  const Route* route = nullptr;
  bool keep_alive = false;
  Errc failure = Errc::ok;  // why the gateway answered (or closed) it itself; ok when proxied
};

// The request ended in `code` (answered or not): its status and token go to the log line, and
// the exchange is counted under it in tether_request_errors_total.
void record_failure(Exchange& x, Errc code) {
  x.failure = code;
  x.log.status = http_status(code);
  x.log.error = std::string(errc_reason(code));
}

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

// A response the gateway makes itself for `code`: the failure table's status, and a JSON body
// saying what was wrong.
asio::awaitable<error_code> answer(ClientConnection& c, Errc code, std::string body,
                                   unsigned version, bool keep_alive, Exchange& x) {
  record_failure(x, code);
  Response res{static_cast<http::status>(http_status(code)), version};
  res.set(http::field::server, "tether");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  x.log.bytes_out = res.body().size();
  x.keep_alive = keep_alive;
  c.stream.expires_after(seconds(c.snapshot->config.limits.idle_timeout_s));
  co_return co_await net::write_message(c.stream, net::response_head(res), res.body());
}

std::string error_body(Errc code, std::string_view reason) {
  RequestDecision d;
  d.refusal = code;
  d.reason = reason;
  return refusal_body(d);
}

// The client learns that the route's upstream failed (bad_gateway or upstream_timeout), never
// where it lives: the upstream's address and the system's error stay in the request's log line.
std::string upstream_failure_body(Errc code, const Route& route) {
  RequestDecision d;
  d.route = &route;
  d.refusal = code;
  d.reason = code == Errc::upstream_timeout
                 ? "the upstream of this route did not answer in time"
                 : "the upstream of this route could not be reached or did not answer";
  return refusal_body(d);
}

Errc upstream_failure(const error_code& ec) {
  return timed_out(ec) ? Errc::upstream_timeout : Errc::bad_gateway;
}

// The client's request: its parser (head parsed, body not yet read) and how its body is framed.
using RequestParser = http::request_parser<http::buffer_body>;
using ResponseParser = http::response_parser<http::buffer_body>;

BodyFraming request_body_framing(const RequestParser& parser) {
  if (parser.chunked()) return BodyFraming::chunked;
  if (parser.content_length().value_or(0) > 0) return BodyFraming::length;
  return BodyFraming::none;
}

// An interim response (RFC 9110 15.2) other than 101: consumed, never forwarded (the gateway
// answered any Expect itself).
bool interim(const ResponseParser& parser) {
  unsigned code = parser.get().result_int();
  return code >= 100 && code < 200 && code != 101;
}

// What went wrong with an exchange, for the client's answer and the log.
struct UpstreamFailure {
  Errc code = Errc::bad_gateway;  // or upstream_timeout
  std::string detail;
};

// The request streamed to the upstream and the response head read back. Steps:
//  1. the first piece of the request body is read from the client before the upstream is
//     touched (small bodies: the whole body), so a request whose pooled connection turns out
//     closed can be sent again in full on a fresh one, for idempotent methods (RFC 9110 9.2.2),
//     as nginx and Envoy do;
//  2. the head and that piece go out together; the rest of the body follows piece by piece,
//     each read from the client only once the upstream took the previous one;
//  3. the response head is read (interim 1xx responses skipped).
// On success `upstream` holds the connection and `res` the parsed head (body unread).
// `client_failed` is set when the client side failed instead (its error in `client_ec`).
class UpstreamExchange {
 public:
  UpstreamExchange(Worker& worker, ClientConnection& c, const Route& route, RequestParser& req,
                   BodyFraming framing, beast::flat_buffer& client_buffer, Exchange& x)
      : worker_(worker),
        c_(c),
        route_(route),
        req_(req),
        client_buffer_(client_buffer),
        x_(x),
        limits_(c.snapshot->config.limits),
        key_(c.snapshot->upstream_key(route)),
        framing_(framing) {}

  UpstreamConnectionPtr upstream;
  beast::flat_buffer upstream_buffer;
  std::optional<ResponseParser> res;
  BodyPiece piece;  // shared by both directions in turn
  bool client_failed = false;
  error_code client_ec;

  // Returns nullopt on success, else what the client should be told.
  asio::awaitable<std::optional<UpstreamFailure>> run(std::string head) {
    // 1. The first piece of the body, before any upstream is involved.
    if (!req_.is_done()) {
      c_.stream.expires_after(seconds(limits_.idle_timeout_s));
      client_ec = co_await read_body_piece(c_.stream, client_buffer_, req_, piece);
      if (client_ec) {
        client_failed = true;
        co_return std::nullopt;
      }
      x_.log.bytes_in += piece.filled().size();
    }
    bool whole_body_held = req_.is_done();
    append_framed(head, framing_, piece.filled().size() <= kCoalesce ? piece.filled() : "",
                  whole_body_held && piece.filled().size() <= kCoalesce);
    for (int attempt = 0; attempt < 2; ++attempt) {
      upstream = worker_.pool().take(key_);
      bool reused = upstream != nullptr;
      if (!reused) {
        upstream = std::make_unique<UpstreamConnection>(worker_.io());
        error_code ec = co_await connect_upstream(upstream->stream, route_,
                                                  seconds(limits_.upstream_timeout_s));
        if (ec) {
          co_return failure(ec, "cannot connect to upstream " + key_ + ": ",
                            "no connection within limits.upstream_timeout");
        }
      }
      // Straight on the socket, with a deadline per wait for the upstream (no per-operation
      // timers as beast::tcp_stream would arm).
      upstream->stream.expires_never();
      upstream_buffer.clear();
      res.emplace();
      error_code ec = co_await send_request(head);
      if (client_failed) co_return std::nullopt;
      if (!ec) ec = co_await read_response_head();
      ec = upstream->deadline.translate(ec);
      if (!ec) co_return std::nullopt;
      bool retry = reused && !res->got_some() && !timed_out(ec) &&
                   idempotent(req_.get().method()) && whole_body_held;
      upstream->stream.close();
      upstream.reset();
      if (retry) continue;
      co_return failure(ec, "upstream " + key_ + ": ",
                        "no response within limits.upstream_timeout (" +
                            std::to_string(limits_.upstream_timeout_s) + "s)");
    }
    co_return UpstreamFailure{Errc::bad_gateway,
                              "upstream " + key_ + " closed two connections before answering"};
  }

 private:
  static constexpr size_t kCoalesce = 16384;

  UpstreamFailure failure(const error_code& ec, const std::string& prefix,
                          const std::string& timeout_text) {
    return UpstreamFailure{upstream_failure(ec),
                           prefix + (timed_out(ec) ? timeout_text : ec.message())};
  }

  // The head (with what of the body fitted beside it), then the rest of the body.
  asio::awaitable<error_code> send_request(const std::string& head) {
    tcp::socket& socket = upstream->stream.socket();
    net::SocketDeadline& deadline = upstream->deadline;
    deadline.expires_after(seconds(limits_.upstream_timeout_s));
    error_code ec = co_await net::write_all(socket, head);
    if (ec) co_return ec;
    bool coalesced = piece.filled().size() <= kCoalesce;
    bool done = req_.is_done();
    if (!coalesced) {
      ec = co_await write_body_piece(socket, framing_, piece.filled(), done);
      if (ec) co_return ec;
    }
    while (!done) {
      c_.stream.expires_after(seconds(limits_.idle_timeout_s));
      client_ec = co_await read_body_piece(c_.stream, client_buffer_, req_, piece);
      if (client_ec) {
        client_failed = true;
        co_return client_ec;
      }
      x_.log.bytes_in += piece.filled().size();
      done = req_.is_done();
      deadline.expires_after(seconds(limits_.upstream_timeout_s));
      ec = co_await write_body_piece(socket, framing_, piece.filled(), done);
      if (ec) co_return ec;
    }
    co_return ec;
  }

  asio::awaitable<error_code> read_response_head() {
    tcp::socket& socket = upstream->stream.socket();
    for (;;) {
      res->header_limit(kMaxResponseHeaderBytes);
      // Responses stream through in pieces, so their size is not limited.
      res->body_limit(boost::none);
      if (req_.get().method() == http::verb::head) res->skip(true);
      upstream->deadline.expires_after(seconds(limits_.upstream_timeout_s));
      error_code ec =
          co_await net::read_message(socket, upstream_buffer, *res, /*header_only=*/true);
      if (ec || !interim(*res)) co_return ec;
      res.emplace();
    }
  }

  Worker& worker_;
  ClientConnection& c_;
  const Route& route_;
  RequestParser& req_;
  beast::flat_buffer& client_buffer_;
  Exchange& x_;
  const LimitsConfig& limits_;
  const std::string& key_;
  BodyFraming framing_;
};

// A request proxied to its upstream, the response streamed back. `parser` holds the client's
// request head; its body is read as it is forwarded.
asio::awaitable<void> proxy_http(Worker& worker, ClientConnection& c, const Route& route,
                                 RequestParser& parser, beast::flat_buffer& client_buffer,
                                 const RequestDecision& decision, Exchange& x) {
  const LimitsConfig& limits = c.snapshot->config.limits;
  auto& req = parser.get();
  bool client_keep_alive = req.keep_alive();
  unsigned version = req.version();
  http::verb method = req.method();
  BodyFraming request_framing = request_body_framing(parser);
  boost::optional<uint64_t> request_length = parser.content_length();

  // What the route was matched on is what the upstream receives.
  req.target(decision.target.forward);
  req.set(http::field::host, decision.host);
  rewrite_request_fields(
      req.base(),
      ForwardedFor{c.identity, c.identity_name, c.fingerprint_sha256, c.client_ip, decision.host},
      /*upgrade=*/false);
  req.version(11);
  req.keep_alive(true);
  if (request_framing == BodyFraming::length) {
    req.set(http::field::content_length, std::to_string(*request_length));
  } else if (request_framing == BodyFraming::chunked) {
    req.set(http::field::transfer_encoding, "chunked");
  } else if (request_length) {
    req.set(http::field::content_length, "0");
  }

  UpstreamExchange up(worker, c, route, parser, request_framing, client_buffer, x);
  std::optional<UpstreamFailure> failed = co_await up.run(net::request_head(req.base()));
  if (up.client_failed) {
    if (up.upstream) up.upstream->stream.close();
    if (up.client_ec == http::error::body_limit) {
      x.log.detail =
          "request body over limits.max_body_bytes (" + std::to_string(limits.max_body_bytes) + ")";
      co_await answer(c, Errc::body_too_large, error_body(Errc::body_too_large, x.log.detail),
                      version, false, x);
    } else {
      record_failure(x, Errc::bad_request);
      x.log.detail = "reading the request body: " + up.client_ec.message();
      x.keep_alive = false;
    }
    co_return;
  }
  if (failed) {
    x.log.detail = failed->detail;
    co_await answer(c, failed->code, upstream_failure_body(failed->code, route), version,
                    client_keep_alive && parser.is_done(), x);
    co_return;
  }

  // The response head, framed for the client: the upstream's Content-Length when it sent one;
  // otherwise chunked for an HTTP/1.1 client, or the close for an HTTP/1.0 one.
  ResponseParser& res = *up.res;
  auto& head = res.get();
  unsigned code = head.result_int();
  bool no_body = method == http::verb::head || code == 204 || code == 304;
  BodyFraming framing = BodyFraming::none;
  bool keep_alive = client_keep_alive;
  boost::optional<uint64_t> length = res.content_length();
  bool upstream_keep_alive = head.keep_alive() && !res.need_eof();
  rewrite_response_fields(head.base(), /*upgrade=*/false);
  head.version(version);
  if (!no_body) {
    if (length) {
      framing = BodyFraming::length;
      head.set(http::field::content_length, std::to_string(*length));
    } else if (version >= 11) {
      framing = BodyFraming::chunked;
      head.set(http::field::transfer_encoding, "chunked");
    } else {
      framing = BodyFraming::until_close;
      keep_alive = false;
    }
  } else if (length && method == http::verb::head) {
    head.set(http::field::content_length, std::to_string(*length));
  }
  head.keep_alive(keep_alive);
  x.log.status = static_cast<int>(code);
  x.keep_alive = keep_alive;

  // The body, piece by piece: the next piece is read from the upstream only once the client
  // took the previous one.
  tcp::socket& socket = up.upstream->stream.socket();
  std::string out = net::response_head(head.base());
  bool done = res.is_done() || no_body;
  error_code upstream_ec;
  if (!done) {
    up.upstream->deadline.expires_after(seconds(limits.upstream_timeout_s));
    upstream_ec = up.upstream->deadline.translate(
        co_await read_body_piece(socket, up.upstream_buffer, res, up.piece));
    done = res.is_done();
  }
  std::string_view first = upstream_ec ? std::string_view() : up.piece.filled();
  append_framed(out, framing, first, done && !upstream_ec);
  x.log.bytes_out += first.size();
  c.stream.expires_after(seconds(limits.idle_timeout_s));
  error_code client_write_ec = co_await net::write_all(c.stream, out);
  while (!done && !upstream_ec && !client_write_ec) {
    up.upstream->deadline.expires_after(seconds(limits.upstream_timeout_s));
    upstream_ec = up.upstream->deadline.translate(
        co_await read_body_piece(socket, up.upstream_buffer, res, up.piece));
    if (upstream_ec) break;
    done = res.is_done();
    c.stream.expires_after(seconds(limits.idle_timeout_s));
    client_write_ec = co_await write_body_piece(c.stream, framing, up.piece.filled(), done);
    x.log.bytes_out += up.piece.filled().size();
  }
  if (upstream_ec || client_write_ec) {
    // The head is out: nothing can be answered any more, so the connection ends here and the
    // client sees a body cut short (no final chunk, or fewer bytes than Content-Length).
    x.keep_alive = false;
    x.log.detail = upstream_ec
                       ? "upstream " + c.snapshot->upstream_key(route) +
                             " failed in the response body: " + upstream_ec.message()
                       : "writing the response body to the client: " + client_write_ec.message();
    up.upstream->stream.close();
    co_return;
  }
  if (upstream_keep_alive && up.upstream_buffer.size() == 0) {
    worker.pool().give_back(c.snapshot->upstream_key(route), std::move(up.upstream));
  } else {
    up.upstream->stream.close();
  }
}

// The WebSocket handshake goes to a dedicated upstream connection (never pooled: it becomes a
// tunnel). On 101 both sides are relayed raw until either closes.
asio::awaitable<void> proxy_websocket(Worker& worker, ClientConnection& c, const Route& route,
                                      RequestParser& request, beast::flat_buffer& client_buffer,
                                      const RequestDecision& decision, Exchange& x) {
  const LimitsConfig& limits = c.snapshot->config.limits;
  x.keep_alive = false;
  auto& req = request.get();
  unsigned version = req.version();
  req.target(decision.target.forward);
  req.set(http::field::host, decision.host);
  rewrite_request_fields(
      req.base(),
      ForwardedFor{c.identity, c.identity_name, c.fingerprint_sha256, c.client_ip, decision.host},
      /*upgrade=*/true);
  beast::tcp_stream upstream(worker.io());
  error_code ec = co_await connect_upstream(upstream, route, seconds(limits.upstream_timeout_s));
  beast::flat_buffer upstream_buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeaderBytes);
  parser.body_limit(limits.max_body_bytes);
  if (!ec) {
    upstream.expires_after(seconds(limits.upstream_timeout_s));
    ec = co_await net::write_all(upstream, net::request_head(req.base()));
  }
  if (!ec) co_await http::async_read_header(upstream, upstream_buffer, parser, ec_token(ec));
  if (!ec && parser.get().result() != http::status::switching_protocols && !parser.is_done()) {
    co_await http::async_read(upstream, upstream_buffer, parser, ec_token(ec));
  }
  if (ec) {
    Errc failure = upstream_failure(ec);
    x.log.detail = "upstream " + c.snapshot->upstream_key(route) + ": " + ec.message();
    co_await answer(c, failure, upstream_failure_body(failure, route), version, false, x);
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
asio::awaitable<void> handle_request(Worker& worker, ClientConnection& c, RequestParser& parser,
                                     beast::flat_buffer& buffer, Exchange& x) {
  const Snapshot& snapshot = *c.snapshot;
  const LimitsConfig& limits = snapshot.config.limits;
  auto& head = parser.get();
  x.log.method = std::string(head.method_string());
  RequestHead received{head.target(), head[http::field::host], head.count(http::field::host), c.sni,
                       c.port};
  RequestDecision decision = decide_request(snapshot.routes, received, c.identity);
  x.route = decision.route;
  // The log names the path as routed; a target refused before parsing is logged as received.
  x.log.path = decision.target.path.empty() ? std::string(head.target()) : decision.target.path;
  if (!decision.proxy()) {
    x.log.detail = decision.reason;
    // The body of a refused request is never read; keep the connection only if it has none.
    bool keep = head.keep_alive() && parser.is_done() && decision.refusal != Errc::bad_request;
    co_await answer(c, decision.refusal, refusal_body(decision), head.version(), keep, x);
    co_return;
  }
  const Route& route = *decision.route;
  if (route.protocol == Protocol::websocket && beast::websocket::is_upgrade(head)) {
    if (!parser.is_done()) {
      x.log.detail = "a WebSocket upgrade request carries a body: send the upgrade without one";
      co_await answer(c, Errc::bad_request, error_body(Errc::bad_request, x.log.detail),
                      head.version(), false, x);
      co_return;
    }
    co_await proxy_websocket(worker, c, route, parser, buffer, decision, x);
    co_return;
  }
  if (!parser.is_done()) {
    // The gateway reads the body itself (and streams it on), so it answers Expect itself.
    parser.eager(true);
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      c.stream.expires_after(seconds(limits.idle_timeout_s));
      if (co_await net::write_all(c.stream, "HTTP/1.1 100 Continue\r\n\r\n")) {
        record_failure(x, Errc::bad_request);
        x.log.detail = "the client went away before sending its body";
        co_return;
      }
    }
  }
  co_await proxy_http(worker, c, route, parser, buffer, decision, x);
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
    RequestParser parser;
    // Not eager while reading the head: nothing of a body is parsed before its framing and its
    // route were checked (request_framing.h).
    parser.eager(false);
    parser.header_limit(limits.max_header_bytes);
    parser.body_limit(limits.max_body_bytes);
    ec = co_await net::read_message(c.stream, buffer, parser, /*header_only=*/true);

    Exchange x;
    x.log.time_ms = obs::unix_millis();
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
      record_failure(x, Errc::request_timeout);
      x.log.detail = "request headers incomplete after limits.header_timeout (" +
                     std::to_string(limits.header_timeout_s) + "s)";
      worker.shared().metrics.request_failed(x.failure);
      obs::write_log_line(obs::request_log_line(x.log));
      co_return;
    }
    if (ec == http::error::body_limit) {
      x.log.detail =
          "request body over limits.max_body_bytes (" + std::to_string(limits.max_body_bytes) + ")";
      co_await answer(c, Errc::body_too_large, error_body(Errc::body_too_large, x.log.detail), 11,
                      false, x);
    } else if (ec == http::error::header_limit) {
      x.log.detail = "request headers over limits.max_header_bytes (" +
                     std::to_string(limits.max_header_bytes) + ")";
      co_await answer(c, Errc::headers_too_large, error_body(Errc::headers_too_large, x.log.detail),
                      11, false, x);
    } else if (ec) {
      x.log.detail = "malformed request: " + ec.message();
      co_await answer(c, Errc::bad_request, error_body(Errc::bad_request, x.log.detail), 11, false,
                      x);
    } else if (auto refusal = check_request_framing(parser.get())) {
      // Refused before routing, and the connection closed: its next bytes cannot be trusted to
      // start a request.
      x.log.method = std::string(parser.get().method_string());
      x.log.path = std::string(parser.get().target());
      x.log.detail = refusal->reason;
      co_await answer(c, refusal->code, error_body(refusal->code, refusal->reason), 11, false, x);
    } else {
      co_await handle_request(worker, c, parser, buffer, x);
    }
    x.log.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    if (x.route != nullptr) {
      c.snapshot->metrics_for(*x.route).request(x.log.status, x.log.duration_ms / 1000);
    }
    if (x.failure != Errc::ok) worker.shared().metrics.request_failed(x.failure);
    if (x.route != nullptr) x.log.route = x.route->name;
    obs::write_log_line(obs::request_log_line(x.log));
    if (!x.keep_alive) co_return;
  }
}

}  // namespace tether::gateway

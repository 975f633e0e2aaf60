#include "server/api_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <ctime>

#include "net/listen_socket.h"
#include "net/tls_stream.h"
#include "obs/log_sink.h"
#include "server/problem.h"
#include "tls/handshake_verify.h"
#include "x509/inspect.h"

namespace tether::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using net::ec_token;
using net::error_code;

namespace {

constexpr uint32_t kMaxHeaderBytes = 16384;

Response with_allow(Response res, std::string allow) {
  if (!allow.empty()) res.set(http::field::allow, allow);
  return res;
}

// What the handshake established about the client: its address and, when it presented a
// certificate (which passed every check, or there would be no connection), its identity.
Peer peer_of(net::TlsStream& stream) {
  Peer peer;
  error_code ec;
  auto endpoint = stream.socket().remote_endpoint(ec);
  if (!ec) peer.address = endpoint.address().to_string();
  SSL* ssl = stream.native_handle();
  if (X509* leaf = SSL_get0_peer_certificate(ssl); leaf != nullptr) {
    const tls::HandshakeOutcome& outcome = tls::conclude_handshake(ssl, 1, 0);
    if (outcome.ok() && outcome.identity) {
      peer.certificate_identity = outcome.identity;
      peer.certificate_serial = outcome.serial_hex;
      peer.certificate_fingerprint = outcome.fingerprint_sha256;
      peer.certificate_not_after = x509::not_after(leaf);
    }
  }
  return peer;
}

}  // namespace

void add_security_headers(Response& res) {
  res.set(http::field::strict_transport_security, "max-age=63072000; includeSubDomains");
  if (res["Content-Security-Policy"].empty()) {
    res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  if (res[http::field::cache_control].empty()) res.set(http::field::cache_control, "no-store");
  res.set(http::field::server, "tether");
}

ApiServer::ApiServer(asio::io_context& io, Router router, Authenticator& auth, StorePool& stores)
    : io_(io), router_(std::move(router)), auth_(auth), stores_(stores), acceptor_(io) {}

Result<uint16_t> ApiServer::listen(const ApiListenerConfig& config,
                                   std::shared_ptr<const tls::ServerContext> tls) {
  config_ = config;
  replace_tls(std::move(tls));
  TETHER_ASSIGN_OR_RETURN(uint16_t port,
                          net::listen_on(acceptor_, config.address, config.port,
                                         {.setting = "api.address", .port_setting = "api.port"}));
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return port;
}

void ApiServer::replace_tls(std::shared_ptr<const tls::ServerContext> tls) {
  std::lock_guard lock(tls_mutex_);
  tls_ = std::move(tls);
}

std::shared_ptr<const tls::ServerContext> ApiServer::current_tls() {
  std::lock_guard lock(tls_mutex_);
  return tls_;
}

void ApiServer::close() {
  error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> ApiServer::accept_loop() {
  for (;;) {
    error_code ec;
    net::tcp::socket socket = co_await acceptor_.async_accept(ec_token(ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> ApiServer::serve(net::tcp::socket socket) {
  auto tls = current_tls();
  auto ssl = tls->new_ssl();
  if (!ssl) co_return;
  net::TlsStream stream(std::move(socket), std::move(ssl).value(), net::TlsRole::accept);
  error_code ec;
  stream.expires_after(config_.handshake_timeout);
  co_await stream.async_handshake(ec_token(ec));
  if (ec) co_return;
  Peer peer = peer_of(stream);
  beast::flat_buffer buffer;
  for (;;) {
    stream.expires_after(config_.idle_timeout);
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(config_.max_body_bytes);
    co_await http::async_read(stream, buffer, parser, ec_token(ec));
    Response res;
    bool keep_alive = true;
    if (ec == http::error::body_limit) {
      res = problem_response(make_field_error(Errc::body_too_large, "body",
                                              "the request body is larger than " +
                                                  std::to_string(config_.max_body_bytes) +
                                                  " bytes, the most this API takes"));
      add_security_headers(res);
      keep_alive = false;
    } else if (ec == http::error::header_limit) {
      res = problem_response(make_error(
          Errc::headers_too_large,
          "the request headers are larger than " + std::to_string(kMaxHeaderBytes) + " bytes"));
      add_security_headers(res);
      keep_alive = false;
    } else if (ec) {
      co_return;
    } else {
      const Request& req = parser.get();
      res = handle(req, peer);
      keep_alive = req.keep_alive();
      res.version(req.version());
      if (req.method() == http::verb::head) {
        res.prepare_payload();
        res.body().clear();
      }
    }
    if (res.body().size() > 0 || res[http::field::content_length].empty()) res.prepare_payload();
    res.keep_alive(keep_alive);
    co_await http::async_write(stream, res, ec_token(ec));
    if (ec || !keep_alive) break;
  }
  stream.expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(ec_token(ec));
}

Response ApiServer::handle(const Request& request, const Peer& peer) {
  std::string actor;
  Response res = dispatch(request, peer, actor);
  add_security_headers(res);
  std::string_view target = request.target();
  boost::json::object line{
      {"method", std::string(http::to_string(request.method()))},
      {"path", std::string(target.substr(0, target.find('?')))},
      {"status", res.result_int()},
      {"client", peer.address},
  };
  if (!actor.empty()) line["actor"] = actor;
  obs::log_event("api_request", std::move(line));
  return res;
}

Response ApiServer::dispatch(const Request& request, const Peer& peer, std::string& actor) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto match = router_.find(request.method(), path);
  if (!match) {
    bool wrong_method = match.error().code == Errc::method_not_allowed;
    return with_allow(problem_response(match.error()),
                      wrong_method ? router_.allowed_methods(path) : "");
  }
  auto lease = stores_.borrow();
  if (!lease) return problem_response(lease.error());
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  ApiContext ctx{request, peer, std::nullopt, std::move(match->params), **lease, now};
  const RouteSpec& route = *match->route;
  if (route.access != Access::public_access) {
    auto principal = auth_.authenticate(request, peer, **lease, now);
    if (!principal) return problem_response(principal.error());
    actor = principal->actor;
    if (route.access == Access::authenticated && principal->password_change_required) {
      return problem_response(make_error(Errc::password_change_required,
                                         "the one-time password must be changed first: POST "
                                         "/v1/password with current_password and new_password"));
    }
    ctx.principal = std::move(principal).value();
  }
  try {
    auto answered = route.handler(ctx);
    if (!answered) return problem_response(answered.error());
    return std::move(answered).value();
  } catch (const std::exception& e) {
    obs::log_event("api_error", {{"path", std::string(path)}, {"detail", e.what()}});
    return problem_response(
        make_error(Errc::io_error, "the server failed to answer this request; see its log"));
  }
}

}  // namespace tether::server

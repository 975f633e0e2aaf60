#include "gateway/internal_upstream.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "gateway/forward_headers.h"
#include "net/listen_socket.h"

namespace tether::gateway {

namespace {
constexpr std::chrono::seconds kIdleTimeout{60};

boost::json::value header_or_null(const http::fields& fields, std::string_view name) {
  auto it = fields.find(name);
  if (it == fields.end()) return nullptr;
  return boost::json::value(std::string(it->value()));
}
}  // namespace

WhoamiUpstream::WhoamiUpstream(asio::io_context& io) : io_(io), acceptor_(io) {}

Result<uint16_t> WhoamiUpstream::start() {
  TETHER_ASSIGN_OR_RETURN(
      port_, net::listen_on(acceptor_, "127.0.0.1", 0, {.setting = "internal:whoami"}));
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return port_;
}

void WhoamiUpstream::close() {
  error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> WhoamiUpstream::accept_loop() {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(ec_token(ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> WhoamiUpstream::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    error_code ec;
    stream.expires_after(kIdleTimeout);
    http::request<http::string_body> req;
    co_await http::async_read(stream, buffer, req, ec_token(ec));
    if (ec) co_return;
    boost::json::object body{
        {"identity", header_or_null(req, kIdentityHeader)},
        {"tenant", header_or_null(req, kTenantHeader)},
        {"certificate_sha256", header_or_null(req, kCertSha256Header)},
        {"client_address", header_or_null(req, "X-Forwarded-For")},
        {"host", header_or_null(req, "X-Forwarded-Host")},
        {"method", std::string(req.method_string())},
        {"path", std::string(req.target())},
    };
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::server, "tether-whoami");
    res.body() = boost::json::serialize(body) + "\n";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, ec_token(ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

bool needs_internal_upstreams(const Config& config) {
  for (const Route& r : config.routes) {
    if (!r.internal_upstream.empty()) return true;
  }
  return false;
}

void fill_internal_upstreams(Config& config, const WhoamiUpstream& whoami) {
  for (Route& r : config.routes) {
    if (r.internal_upstream == kWhoamiUpstream) {
      r.upstream_host = "127.0.0.1";
      r.upstream_port = whoami.port();
    }
  }
}

}  // namespace tether::gateway

#include "gateway/admin_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "net/listen_socket.h"

namespace tether::gateway {

namespace {
namespace http = beast::http;
constexpr std::chrono::seconds kAdminTimeout{10};
}  // namespace

AdminServer::AdminServer(asio::io_context& io, AdminHandlers handlers)
    : io_(io), handlers_(std::move(handlers)), acceptor_(io) {}

Result<uint16_t> AdminServer::listen(const std::string& address, uint16_t port) {
  TETHER_ASSIGN_OR_RETURN(uint16_t bound,
                          net::listen_on(acceptor_, address, port, {.setting = "admin.address"}));
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return bound;
}

void AdminServer::close() {
  error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> AdminServer::accept_loop() {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(ec_token(ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    error_code ec;
    stream.expires_after(kAdminTimeout);
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8192);
    co_await http::async_read(stream, buffer, parser, ec_token(ec));
    if (ec) co_return;
    const auto& req = parser.get();
    http::response<http::string_body> res{http::status::ok, req.version()};
    auto refuse = [&res](Errc code) { res.result(static_cast<http::status>(http_status(code))); };
    res.set(http::field::server, "tether");
    std::string_view path = req.target().substr(0, req.target().find('?'));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      refuse(Errc::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.body() = "only GET and HEAD\n";
    } else if (path == "/metrics") {
      res.set(http::field::content_type, "text/plain; version=0.0.4");
      res.body() = handlers_.metrics();
    } else if (path == "/healthz") {
      res.body() = "ok\n";
    } else if (path == "/readyz") {
      bool ready = handlers_.ready();
      if (!ready) refuse(Errc::not_ready);
      res.body() = ready ? "ready\n" : "not ready\n";
    } else {
      refuse(Errc::not_found);
      res.body() = "not found: the admin listener serves /metrics, /healthz and /readyz\n";
    }
    if (res.body().size() && res[http::field::content_type].empty()) {
      res.set(http::field::content_type, "text/plain");
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    co_await http::async_write(stream, res, ec_token(ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

}  // namespace tether::gateway

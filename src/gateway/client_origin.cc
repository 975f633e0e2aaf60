#include "gateway/client_origin.h"

#include <array>
#include <boost/asio/read.hpp>

#include "gateway/proxy_protocol.h"
#include "net/socket_deadline.h"

namespace tether::gateway {

namespace {

std::string address_text(const std::string& ip, uint16_t port) {
  bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

}  // namespace

PeerAddress peer_address(const tcp::socket& socket) {
  error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return {};
  std::string ip = ep.address().to_string();
  return {ip, address_text(ip, ep.port())};
}

asio::awaitable<Result<PeerAddress>> read_proxy_origin(tcp::socket& socket,
                                                       const PeerAddress& balancer,
                                                       std::chrono::seconds timeout) {
  net::SocketDeadline deadline(socket);
  deadline.expires_after(timeout);
  std::array<uint8_t, kProxyHeaderFixedSize + kProxyHeaderMaxBody> header;
  error_code ec;
  co_await asio::async_read(socket, asio::buffer(header.data(), kProxyHeaderFixedSize),
                            ec_token(ec));
  auto fail = [&](const error_code& e) {
    return make_error(Errc::io_error, deadline.translate(e) == beast::error::timeout
                                          ? "no complete PROXY protocol header within "
                                            "limits.handshake_timeout"
                                          : "reading the PROXY protocol header: " + e.message());
  };
  if (ec) co_return fail(ec);
  auto body =
      parse_proxy_header_prefix(std::span<const uint8_t>(header.data(), kProxyHeaderFixedSize));
  if (!body) co_return std::move(body).error();
  if (*body > 0) {
    co_await asio::async_read(socket, asio::buffer(header.data() + kProxyHeaderFixedSize, *body),
                              ec_token(ec));
    if (ec) co_return fail(ec);
  }
  deadline.expires_never();
  auto parsed =
      parse_proxy_header(std::span<const uint8_t>(header.data(), kProxyHeaderFixedSize + *body));
  if (!parsed) co_return std::move(parsed).error();
  if (parsed->local || parsed->source_ip.empty()) co_return balancer;
  co_return PeerAddress{parsed->source_ip, address_text(parsed->source_ip, parsed->source_port)};
}

uint32_t SourceCounts::add(const std::string& ip) {
  std::lock_guard lock(mutex_);
  return ++open_[ip];
}

void SourceCounts::remove(const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto it = open_.find(ip);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

}  // namespace tether::gateway

// Services a gateway process serves itself, named by `upstream = "internal:<name>"`. Today one:
// whoami, which answers every request with the identity the gateway forwarded (the X-Tether-*
// headers) as JSON, so a first request works with nothing else running and shows exactly what
// an upstream receives.
//
// They listen on 127.0.0.1 (an ephemeral port) like any upstream, so requests reach them
// through the same proxying, header rewriting and policy as a real one. Their owner (the
// gateway command or the server) starts them before the gateway and fills each route's
// upstream address with fill_internal_upstreams, for every config it creates or reloads with.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "common/error.h"
#include "gateway/config.h"
#include "gateway/net.h"

namespace tether::gateway {

class WhoamiUpstream {
 public:
  explicit WhoamiUpstream(asio::io_context& io);
  // Binds 127.0.0.1:0 and starts answering; returns the port.
  Result<uint16_t> start();
  void close();
  uint16_t port() const { return port_; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
};

// Whether any route of `config` names an internal upstream.
bool needs_internal_upstreams(const Config& config);
// Points every internal route at its service on loopback.
void fill_internal_upstreams(Config& config, const WhoamiUpstream& whoami);

}  // namespace tether::gateway

// The API listener: HTTPS on its own address (loopback by default), a client certificate
// optional. Every request is dispatched through the router: the credential is checked for any
// route that is not public, the handler runs on the listener's thread with a borrowed store
// handle, and its error becomes problem details. Every response carries the security headers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "net/asio.h"
#include "server/auth/authenticator.h"
#include "server/router.h"
#include "server/store_pool.h"
#include "tls/server_context.h"

namespace tether::server {

struct ApiListenerConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: the kernel picks
  // The largest request body taken (413 beyond): uploads are CSRs and small JSON documents.
  uint64_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds handshake_timeout{10};
};

class ApiServer {
 public:
  ApiServer(boost::asio::io_context& io, Router router, Authenticator& auth, StorePool& stores);

  // Binds and starts accepting with `tls` (whose context must not require client certificates);
  // returns the port it got.
  Result<uint16_t> listen(const ApiListenerConfig& config,
                          std::shared_ptr<const tls::ServerContext> tls);
  // Connections made from now on use `tls` (a renewed server certificate); open ones keep theirs.
  void replace_tls(std::shared_ptr<const tls::ServerContext> tls);
  void close();

  // Answers one request: routing, credential, handler, problem details, security headers.
  Response handle(const Request& request, const Peer& peer);

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(net::tcp::socket socket);
  std::shared_ptr<const tls::ServerContext> current_tls();
  Response dispatch(const Request& request, const Peer& peer, std::string& actor);

  boost::asio::io_context& io_;
  Router router_;
  Authenticator& auth_;
  StorePool& stores_;
  ApiListenerConfig config_;
  net::tcp::acceptor acceptor_;
  std::mutex tls_mutex_;
  std::shared_ptr<const tls::ServerContext> tls_;
};

// Sets the headers every API response carries (HSTS, CSP, nosniff, frame and referrer policy,
// no caching unless the handler chose otherwise).
void add_security_headers(Response& response);

}  // namespace tether::server

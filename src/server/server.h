// `tether server`: the CA (issuance), the REST API and the gateway in one process on the
// embedded store. On first start it makes the CA, its server certificate, the operator's
// client certificate and the first operator user; then it serves until stopped.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "gateway/gateway.h"
#include "gateway/internal_upstream.h"
#include "obs/metrics.h"
#include "pki/certificate_authority.h"
#include "server/api/services.h"
#include "server/api_server.h"
#include "server/auth/auth_service.h"
#include "server/crl_service.h"
#include "server/openapi_document.h"
#include "server/server_config.h"
#include "server/store_pool.h"

namespace tether::server {

struct ServerStart {
  std::string data_dir;
  std::string config_path;  // empty: defaults
  // The CA keys' passphrase; nullopt: <data>/ca-passphrase, made (0600) on first start.
  std::optional<std::string> passphrase;
};

// What a started server tells whoever runs it.
struct ServerReady {
  uint16_t api_port = 0;
  uint16_t gateway_port = 0;
  std::optional<std::string> one_time_password;  // set on the start that made the operator
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(ServerStart start);
  ~Server();

  Result<ServerReady> start();
  // Serves on the calling thread until stop() (from a signal handler's completion).
  void run();
  // Makes run() return; safe from any thread (a signal's). Then call stop() on run()'s thread.
  void interrupt() { control_.stop(); }
  void stop();

  const ServerConfig& config() const { return config_; }
  const ServerPaths& paths() const { return paths_; }

 private:
  Server() = default;
  void schedule_housekeeping();
  tls::ServerConfig api_tls_config() const;

  ServerPaths paths_;
  ServerConfig config_;
  std::unique_ptr<store::Store> store_;  // the control thread's handle
  std::optional<pki::CertificateAuthority> ca_;
  const pki::Authority* connector_issuer_ = nullptr;
  std::unique_ptr<StorePool> stores_;
  std::unique_ptr<CrlService> crl_;
  std::unique_ptr<pki::IssuanceQueue> issuance_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<api::Services> services_;
  boost::asio::io_context control_{1};
  boost::asio::io_context api_io_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<obs::GatewayMetrics> metrics_;
  std::unique_ptr<gateway::WhoamiUpstream> whoami_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::vector<std::thread> api_threads_;
  std::unique_ptr<boost::asio::steady_timer> housekeeping_;
  int64_t last_certificate_check_ = 0;
  bool stopped_ = false;
};

}  // namespace tether::server

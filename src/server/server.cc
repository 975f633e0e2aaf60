#include "server/server.h"

#include <openssl/rand.h>

#include <boost/asio/executor_work_guard.hpp>
#include <ctime>

#include "common/fs.h"
#include "common/hex.h"
#include "obs/log_sink.h"
#include "pki/ca_files.h"
#include "pki/cert_files.h"
#include "pki/file_key_store.h"
#include "pki/lifecycle.h"
#include "server/server_certificate.h"
#include "store/open.h"
#include "x509/pem.h"

namespace tether::server {

namespace {

constexpr std::chrono::seconds kHousekeepingInterval{1};
constexpr int64_t kCertificateCheckSeconds = 3600;
constexpr const char* kOperatorCertificateName = "operator";

int64_t now_seconds() {
  return static_cast<int64_t>(std::time(nullptr));
}

// The passphrase given, else the data directory's own, made on first start. A server that
// starts unattended needs its keys' passphrase somewhere: beside the data, readable by this
// user only, as the README says; production points --passphrase-file at a secrets mount.
Result<std::string> passphrase_for(const ServerStart& start, const ServerPaths& paths,
                                   bool first_start) {
  if (start.passphrase) return *start.passphrase;
  if (fs::exists(paths.passphrase)) {
    return fs::read_private_passphrase_file(paths.passphrase, "the data directory's passphrase");
  }
  if (!first_start) {
    return make_error(Errc::passphrase_required,
                      "the CA in '" + paths.data_dir + "' has no " + paths.passphrase +
                          ": give its passphrase with --passphrase-file or "
                          "TETHER_CA_PASSPHRASE_FILE");
  }
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return make_error(Errc::crypto_error, "cannot make a random passphrase");
  }
  std::string made = hex::encode(std::span(bytes, sizeof bytes));
  OPENSSL_cleanse(bytes, sizeof bytes);
  TETHER_TRY(fs::write_new_file(paths.passphrase, made + "\n", 0600));
  return made;
}

// The operator's client certificate (admin/operator), made once: the credential the printed
// curl commands use, and what automation on this host can start from.
Status ensure_operator_certificate(store::Store& store, pki::CertificateAuthority& ca,
                                   const ServerPaths& paths, int64_t now) {
  store::CertificateFilter filter;
  filter.kind = "admin";
  filter.name = kOperatorCertificateName;
  TETHER_ASSIGN_OR_RETURN(auto existing, store.list_certificates(filter));
  if (!existing.empty()) return ok_status();
  TETHER_ASSIGN_OR_RETURN(
      auto target, pki::plan_cert_files(paths.admin_dir, kOperatorCertificateName, ca.root()));
  pki::NamedIssueRequest request;
  request.kind = verify::IdentityKind::admin;
  request.name = kOperatorCertificateName;
  request.profile.key_type = x509::KeyType::ecdsa_p256;
  TETHER_ASSIGN_OR_RETURN(auto issued,
                          pki::issue_named(store, ca, {"server", now}, std::move(request)));
  return pki::write_cert_files(
      target, {issued.certificate.cert.get(), issued.issuing, ca.root(), issued.private_key.get()});
}

}  // namespace

// The API listener's TLS: the server certificate, and client certificates (optional) from the
// Connector CA under the root.
tls::ServerConfig Server::api_tls_config() const {
  tls::ServerConfig tls;
  tls.cert_chain_path = paths_.server_chain;
  tls.key_path = paths_.server_key;
  auto ca_paths = pki::CaPaths::in(paths_.data_dir);
  tls.trust_anchor_paths = {ca_paths.root_cert};
  tls.intermediate_paths = {ca_paths.connector_ca_cert};
  tls.trust_domain = ca_->trust_domain();
  tls.require_client_certificate = false;
  return tls;
}

Result<std::unique_ptr<Server>> Server::create(ServerStart start) {
  std::unique_ptr<Server> s(new Server());
  s->paths_ = ServerPaths::in(start.data_dir);
  TETHER_ASSIGN_OR_RETURN(s->config_, read_server_config(start.config_path, s->paths_));
  if (!fs::exists(start.data_dir)) TETHER_TRY(fs::make_dir(start.data_dir, 0700));
  int64_t now = now_seconds();
  bool first_start = !pki::ca_exists(start.data_dir);
  TETHER_ASSIGN_OR_RETURN(std::string passphrase, passphrase_for(start, s->paths_, first_start));
  TETHER_ASSIGN_OR_RETURN(s->store_, store::open(s->paths_.store, {.create = first_start}));
  auto keys_at = pki::file_key_stores(std::move(passphrase));
  if (first_start) {
    TETHER_ASSIGN_OR_RETURN(
        auto made, pki::CertificateAuthority::initialize(start.data_dir, *s->store_, keys_at,
                                                         pki::CaInitOptions{}, {"server", now}));
    s->ca_.emplace(std::move(made));
  } else {
    TETHER_ASSIGN_OR_RETURN(auto opened, pki::CertificateAuthority::open(
                                             start.data_dir, *s->store_,
                                             keys_at(pki::CaPaths::in(start.data_dir).dir)));
    s->ca_.emplace(std::move(opened));
  }
  // Both issuers now, on this thread: handlers on the API's threads only read them.
  TETHER_ASSIGN_OR_RETURN(s->connector_issuer_,
                          s->ca_->issuer(pki::IssuerRole::connector_ca, {"server", now}));
  TETHER_TRY(s->ca_->issuer(pki::IssuerRole::server_ca, {"server", now}));
  if (!fs::exists(s->paths_.ca_pem)) {
    TETHER_TRY(fs::write_new_file(s->paths_.ca_pem, x509::to_pem(s->ca_->root()), 0644));
  }
  TETHER_ASSIGN_OR_RETURN(
      bool renewed, ensure_server_certificate(*s->store_, *s->ca_, s->config_, s->paths_, now));
  (void)renewed;
  s->last_certificate_check_ = now;
  TETHER_TRY(ensure_operator_certificate(*s->store_, *s->ca_, s->paths_, now));

  std::string store_path = s->paths_.store;
  s->stores_ = std::make_unique<StorePool>([store_path] { return store::open(store_path); });
  s->crl_ = std::make_unique<CrlService>(*s->connector_issuer_, *s->stores_);
  TETHER_TRY(s->crl_->refresh(now, "server"));
  TETHER_ASSIGN_OR_RETURN(s->auth_, AuthService::create());
  return s;
}

Server::~Server() {
  stop();
}

Result<ServerReady> Server::start() {
  ServerReady ready;
  int64_t now = now_seconds();
  TETHER_ASSIGN_OR_RETURN(ready.one_time_password, auth_->bootstrap_operator(*store_, now));

  // The gateway, with the whoami service its default route uses.
  whoami_ = std::make_unique<gateway::WhoamiUpstream>(control_);
  TETHER_TRY(whoami_->start());
  gateway::fill_internal_upstreams(config_.gateway, *whoami_);
  std::vector<std::string> route_names;
  for (const auto& r : config_.gateway.routes) route_names.push_back(r.name);
  metrics_ = std::make_unique<obs::GatewayMetrics>(route_names);
  TETHER_ASSIGN_OR_RETURN(auto gateway_store, store::open(paths_.store));
  TETHER_ASSIGN_OR_RETURN(auto activity_store, store::open(paths_.store));
  TETHER_ASSIGN_OR_RETURN(
      gateway_, gateway::Gateway::create(config_.gateway, {std::move(gateway_store), *metrics_,
                                                           control_, std::move(activity_store)}));
  TETHER_TRY(gateway_->start());
  ready.gateway_port = gateway_->listener_port();

  // The API.
  TETHER_ASSIGN_OR_RETURN(auto queue_store, store::open(paths_.store));
  TETHER_ASSIGN_OR_RETURN(issuance_, pki::IssuanceQueue::start(std::move(queue_store)));
  services_.reset(new api::Services{*ca_, *connector_issuer_, *crl_,
                                    [this] {
                                      api::LiveConnections live;
                                      for (auto& id : gateway_->connected_now().identities) {
                                        live[id.identity] = id.connections;
                                      }
                                      return live;
                                    },
                                    *issuance_, std::string(kOpenApiDocument)});
  Router router;
  router.add(api::public_routes(*services_));
  router.add(auth_->routes());
  router.add(api::tenant_routes(*services_));
  router.add(api::connector_routes(*services_));
  router.add(api::certificate_routes(*services_));
  router.add(api::audit_routes(*services_));
  router.add(api::renew_routes(*services_));
  api_ = std::make_unique<ApiServer>(api_io_, std::move(router), *auth_, *stores_);
  TETHER_ASSIGN_OR_RETURN(auto context, tls::ServerContext::create(api_tls_config()));
  TETHER_ASSIGN_OR_RETURN(ready.api_port, api_->listen(config_.api, std::move(context)));
  for (int i = 0; i < config_.api_threads; ++i) {
    api_threads_.emplace_back([this] {
      auto guard = boost::asio::make_work_guard(api_io_);
      api_io_.run();
    });
  }
  housekeeping_ = std::make_unique<boost::asio::steady_timer>(control_);
  schedule_housekeeping();
  obs::log_event("server_ready", {{"api_port", ready.api_port},
                                  {"gateway_port", ready.gateway_port},
                                  {"data", paths_.data_dir}});
  return ready;
}

void Server::schedule_housekeeping() {
  housekeeping_->expires_after(kHousekeepingInterval);
  housekeeping_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    int64_t now = now_seconds();
    if (auto s = crl_->refresh_if_stale(now); !s) {
      obs::log_event("crl_refresh_failed", {{"error", s.error().message}});
    }
    if (now - last_certificate_check_ >= kCertificateCheckSeconds) {
      last_certificate_check_ = now;
      auto renewed = ensure_server_certificate(*store_, *ca_, config_, paths_, now);
      if (!renewed) {
        obs::log_event("server_certificate_renewal_failed", {{"error", renewed.error().message}});
      } else if (*renewed) {
        // Hot swap: new connections get the new certificate, open ones keep theirs.
        auto context = tls::ServerContext::create(api_tls_config());
        if (context) {
          api_->replace_tls(*context);
        } else {
          obs::log_event("server_certificate_renewal_failed", {{"error", context.error().message}});
        }
        (void)gateway_->reload(gateway_->running_config(), "server_certificate_renewed");
        obs::log_event("server_certificate_renewed", {});
      }
    }
    schedule_housekeeping();
  });
}

void Server::run() {
  control_.run();
}

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (housekeeping_) housekeeping_->cancel();
  if (api_) api_->close();
  api_io_.stop();
  for (auto& t : api_threads_) t.join();
  api_threads_.clear();
  // After the API's threads: every issuance they submitted is committed and answered.
  if (issuance_) issuance_->stop();
  if (gateway_) gateway_->stop();
  if (whoami_) whoami_->close();
  control_.stop();
}

}  // namespace tether::server

#include "gateway/snapshot.h"

#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>

#include "common/fs.h"
#include "gateway/upstream.h"
#include "x509/inspect.h"

namespace tether::gateway {

namespace {

tls::TlsVersion tls_version(TlsVersion v) {
  return v == TlsVersion::tls1_3 ? tls::TlsVersion::tls1_3 : tls::TlsVersion::tls1_2;
}

}  // namespace

std::vector<std::string> intermediate_files(const Config& config) {
  if (config.listener.intermediates) return *config.listener.intermediates;
  // The issuing CA of the data directory the store belongs to (pki/ca_files.h's layout).
  std::string issuing =
      (std::filesystem::path(config.store.path).parent_path() / "ca" / "issuing.pem").string();
  if (std::filesystem::exists(issuing)) return {issuing};
  return {};
}

Result<Config> read_config_file(const std::string& path) {
  TETHER_ASSIGN_OR_RETURN(std::string text, fs::read_file(path, "gateway config"));
  return parse_config(text, path);
}

Result<std::shared_ptr<const Snapshot>> build_snapshot(
    Config config, std::shared_ptr<const tls::RevocationSet> revocation,
    obs::GatewayMetrics& metrics, const std::vector<OSSL_LIB_CTX*>& libraries,
    tls::SessionCache* sessions) {
  tls::ServerConfig server;
  server.cert_chain_path = config.listener.server_cert;
  server.key_path = config.listener.server_key;
  server.trust_anchor_paths = config.listener.trust;
  server.intermediate_paths = intermediate_files(config);
  server.trust_domain = config.trust_domain;
  server.min_version = tls_version(config.listener.min_version);
  server.revocation = std::move(revocation);
  server.session_cache = sessions;
  server.ticket_keys.resize(80);
  if (RAND_priv_bytes(reinterpret_cast<unsigned char*>(server.ticket_keys.data()), 80) != 1) {
    return make_error(Errc::crypto_error, "cannot make session ticket keys");
  }
  auto snapshot = std::make_shared<Snapshot>();
  for (OSSL_LIB_CTX* library : libraries) {
    server.library = library;
    TETHER_ASSIGN_OR_RETURN(auto context, tls::ServerContext::create(server));
    snapshot->tls.push_back(std::move(context));
  }
  if (X509* cert = SSL_CTX_get0_certificate(snapshot->tls.front()->native())) {
    snapshot->server_cert_not_after = x509::not_after(cert);
  }
  snapshot->routes = RouteTable(config.routes);
  for (const Route& route : snapshot->routes.routes()) {
    snapshot->route_state.push_back({&metrics.route(route.name), upstream_key(route)});
  }
  snapshot->config = std::move(config);
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

}  // namespace tether::gateway

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

Status restart_needed(std::string_view setting, std::string_view running, std::string_view next) {
  return make_error(Errc::invalid_argument,
                    std::string(setting) + " changed from " + std::string(running) + " to " +
                        std::string(next) +
                        ": this takes a restart; the running configuration stays in force");
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

std::vector<uint16_t> extra_listener_ports(const Config& config) {
  std::vector<uint16_t> ports;
  for (const Route& route : config.routes) {
    if (!route.match.port || *route.match.port == config.listener.port) continue;
    if (std::find(ports.begin(), ports.end(), *route.match.port) == ports.end()) {
      ports.push_back(*route.match.port);
    }
  }
  std::sort(ports.begin(), ports.end());
  return ports;
}

Status check_reloadable(const Config& running, const Config& next) {
  if (running.listener.address != next.listener.address) {
    return restart_needed("listener.address", running.listener.address, next.listener.address);
  }
  if (running.listener.port != next.listener.port) {
    return restart_needed("listener.port", std::to_string(running.listener.port),
                          std::to_string(next.listener.port));
  }
  auto ports_text = [](const std::vector<uint16_t>& ports) {
    std::string out = "[";
    for (uint16_t p : ports) out += (out.size() > 1 ? "," : "") + std::to_string(p);
    return out + "]";
  };
  auto running_ports = extra_listener_ports(running);
  auto next_ports = extra_listener_ports(next);
  if (running_ports != next_ports) {
    return restart_needed("the set of route ports", ports_text(running_ports),
                          ports_text(next_ports));
  }
  if (running.workers != next.workers) {
    return restart_needed("workers", std::to_string(running.workers), std::to_string(next.workers));
  }
  if (running.store.path != next.store.path) {
    return restart_needed("store.path", running.store.path, next.store.path);
  }
  bool admin_same = running.admin.has_value() == next.admin.has_value() &&
                    (!running.admin || (running.admin->address == next.admin->address &&
                                        running.admin->port == next.admin->port));
  if (!admin_same) return restart_needed("[admin]", "its running value", "another");
  return ok_status();
}

}  // namespace tether::gateway

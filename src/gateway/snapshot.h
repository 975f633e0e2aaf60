// Everything a connection needs to serve, built from one config and read-only after: the TLS
// context, the route table and the routes' counters.
//
// A reload builds a whole new Snapshot off the serving threads and hands it to every event loop;
// a connection keeps the snapshot it was accepted under until it closes, so a reload never
// changes the rules under a request in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "gateway/config.h"
#include "gateway/route.h"
#include "obs/metrics.h"
#include "tls/server_context.h"

namespace tether::gateway {

struct Snapshot {
  Config config;
  RouteTable routes;
  // What each route needs per request, made once: parallel to routes.routes().
  struct RouteState {
    obs::RouteMetrics* metrics;
    std::string upstream_key;  // "host:port": the upstream pool's key and log name
  };
  std::vector<RouteState> route_state;
  // One TLS context per worker, each in that worker's OpenSSL library context, sharing ticket
  // keys so that any worker resumes any session.
  std::vector<std::shared_ptr<const tls::ServerContext>> tls;
  int64_t server_cert_not_after = 0;  // unix seconds

  const RouteState& state_of(const Route& route) const {
    return route_state[static_cast<size_t>(&route - routes.routes().data())];
  }
  obs::RouteMetrics& metrics_for(const Route& route) const { return *state_of(route).metrics; }
  const std::string& upstream_key(const Route& route) const { return state_of(route).upstream_key; }
};

// The intermediates files a snapshot uses: listener.intermediates, else the CA's issuing
// certificate beside the store when it exists.
std::vector<std::string> intermediate_files(const Config& config);

// Reads and parses the config file (see parse_config).
Result<Config> read_config_file(const std::string& path);

// Builds the TLS context (opening the certificate, key and trust files) and the route table.
// Errors name the file or setting at fault.
Result<std::shared_ptr<const Snapshot>> build_snapshot(
    Config config, std::shared_ptr<const tls::RevocationSet> revocation,
    obs::GatewayMetrics& metrics, const std::vector<OSSL_LIB_CTX*>& libraries,
    tls::SessionCache* sessions);

}  // namespace tether::gateway

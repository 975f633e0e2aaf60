// The gateway's configuration: parsed from TOML once, validated once, then read-only
// (a plain config, validated once, never changed). Listeners, TLS contexts and the route table are
// built from a Config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "gateway/route.h"
#include "gateway/source_networks.h"

namespace tether::gateway {

enum class TlsVersion { tls1_2, tls1_3 };

// `upstream = "internal:whoami"`: answers with the identity the gateway forwarded, as JSON.
inline constexpr std::string_view kInternalUpstreamPrefix = "internal:";
inline constexpr std::string_view kWhoamiUpstream = "whoami";

struct ListenerConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: ephemeral (tests)
  std::string server_cert;
  std::string server_key;
  std::vector<std::string> trust;  // PEM files of trust anchors; never the system store
  // PEM files of CA certificates that issue client certificates, used to build a client's path
  // when it sends its leaf alone; never trust anchors. Absent: the CA's issuing certificate
  // beside the store (<data dir>/ca/issuing.pem), when there is one.
  std::optional<std::vector<std::string>> intermediates;
  TlsVersion min_version = TlsVersion::tls1_2;
  // PROXY protocol v2 (proxy_protocol.h) on every port of the listener: each connection must
  // come from one of `proxy_protocol_from` (the load balancers) and start with a header, whose
  // source address then stands for the client (logs, X-Forwarded-For, per-source limits).
  bool proxy_protocol = false;
  SourceNetworks proxy_protocol_from;
};

struct LimitsConfig {
  int64_t handshake_timeout_s = 10;
  int64_t header_timeout_s = 10;
  int64_t idle_timeout_s = 60;
  // Connecting to the upstream and waiting for its response headers (504 when it runs out).
  int64_t upstream_timeout_s = 60;
  uint32_t max_header_bytes = 16384;
  uint64_t max_body_bytes = 8 << 20;  // request and response bodies (413 / 502 beyond)
  uint32_t max_connections = 10000;
  // Open connections from one client address (after PROXY protocol), counted from accept; 0: no
  // limit. Off by default: a site's devices often share one NAT address.
  uint32_t max_connections_per_source = 0;
};

// Metrics, /healthz and /readyz: a separate, loopback-by-default listener.
struct AdminConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
};

struct StoreConfig {
  std::string path;  // tether.db
  // How often the revocation feed polls the store. At most 1000 so that a revocation takes
  // effect within 1 s of its commit.
  uint32_t poll_interval_ms = 100;
  // How often the gateway writes what its handshakes saw (last presentation per certificate,
  // handshake outcomes per minute) to the store, when it was given a handle to write them with
  // (GatewayDependencies::activity). 10 .. 60000; read at start.
  uint32_t activity_flush_interval_ms = 5000;
};

// TLS settings of the whole process rather than of one listener.
struct TlsConfig {
  // Bytes the TLS session cache shared by all workers may hold (tls/session_cache.h); 0: no
  // cache, every handshake is a full one. Applied on reload too.
  uint64_t session_cache_bytes = uint64_t{32} << 20;
};

struct Config {
  std::string trust_domain = "tether.internal";
  // Whether the file set trust_domain. When it did not, the gateway takes the store's (the CA's);
  // when it did, the two must agree.
  bool trust_domain_set = false;
  // Event loops (threads), all accepting from one listening socket per port. 0: one per core.
  uint32_t workers = 0;
  ListenerConfig listener;
  LimitsConfig limits;
  TlsConfig tls;
  std::optional<AdminConfig> admin;  // absent: no admin listener
  StoreConfig store;
  std::vector<Route> routes;  // config order; at least one
};

// Parses and validates a whole config. Unknown keys are errors: a typo must never silently weaken
// policy. Every error names `source_name`, the TOML line, the setting (e.g. "route[2].allow[0]"),
// the bad value and the fix. Files named here are not opened: that happens when the TLS context
// is built. Errc::parse_error for TOML syntax, Errc::invalid_argument for everything else.
Result<Config> parse_config(std::string_view toml, std::string_view source_name);

// An owner that embeds the gateway reads its config with embedded_config.h.

}  // namespace tether::gateway

// `tether server`'s configuration: its own settings ([api], [server]) and the embedded
// gateway's, in the same keys as gateway.toml, in one file (deploy/server.example.toml). Every
// setting has a default, so the server runs with no file at all: the API on 127.0.0.1:8444,
// the gateway on 127.0.0.1:8443 with one route, /whoami, answered by internal:whoami.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "gateway/config.h"
#include "server/api_server.h"

namespace tether::server {

inline constexpr uint16_t kDefaultApiPort = 8444;
inline constexpr uint16_t kDefaultGatewayPort = 8443;

// Where the server keeps what it makes in its data directory.
struct ServerPaths {
  std::string data_dir;
  std::string store;         // tether.db
  std::string passphrase;    // ca-passphrase, made on first start when none is given
  std::string ca_pem;        // ca.pem: the root, for clients' --cacert
  std::string server_dir;    // server/: the server certificate of both listeners
  std::string server_chain;  // server/server.pem (leaf, then the Server CA)
  std::string server_key;    // server/server-key.pem
  std::string admin_dir;     // admin/: the operator's client certificate
  static ServerPaths in(const std::string& data_dir);
};

struct ServerConfig {
  ApiListenerConfig api;
  int api_threads = 4;
  // The names clients reach the server by: the server certificate's DNS and IP SANs.
  std::vector<std::string> dns = {"localhost"};
  std::vector<std::string> ips = {"127.0.0.1"};
  // Lifetime of the server certificate; renewed when two thirds of it have passed.
  int server_certificate_days = 90;
  gateway::Config gateway;
};

// Reads `config_path` (empty: no file, every default). Errors name the file, line and setting.
Result<ServerConfig> read_server_config(const std::string& config_path, const ServerPaths& paths);
Result<ServerConfig> parse_server_config(std::string_view toml, std::string_view source,
                                         const ServerPaths& paths);

}  // namespace tether::server

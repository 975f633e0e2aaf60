#include "server/server_config.h"

#include "common/fs.h"
#include "gateway/embedded_config.h"
#include "pki/ca_files.h"

namespace tether::server {

ServerPaths ServerPaths::in(const std::string& data_dir) {
  ServerPaths p;
  p.data_dir = data_dir;
  p.store = data_dir + "/tether.db";
  p.passphrase = data_dir + "/ca-passphrase";
  p.ca_pem = data_dir + "/ca.pem";
  p.server_dir = data_dir + "/server";
  p.server_chain = p.server_dir + "/server.pem";
  p.server_key = p.server_dir + "/server-key.pem";
  p.admin_dir = data_dir + "/admin";
  return p;
}

namespace {

Error at(const std::string_view source, const toml::node* node, std::string_view setting,
         std::string_view problem) {
  std::string where(source);
  if (node != nullptr && node->source().begin.line > 0) {
    where += ":" + std::to_string(node->source().begin.line);
  }
  return make_error(Errc::invalid_argument,
                    where + ": " + std::string(setting) + ": " + std::string(problem));
}

Status read_api(const toml::table& t, std::string_view source, ServerConfig& out) {
  for (const auto& [key, node] : t) {
    std::string_view k = key.str();
    if (k == "address") {
      auto v = node.value<std::string>();
      if (!v) return at(source, &node, "api.address", "must be a string, e.g. \"127.0.0.1\"");
      out.api.address = *v;
    } else if (k == "port") {
      auto v = node.value<int64_t>();
      if (!v || *v < 0 || *v > 65535) {
        return at(source, &node, "api.port", "must be a port from 0 to 65535 (0: any free one)");
      }
      out.api.port = static_cast<uint16_t>(*v);
    } else if (k == "threads") {
      auto v = node.value<int64_t>();
      if (!v || *v < 1 || *v > 64) return at(source, &node, "api.threads", "must be 1 to 64");
      out.api_threads = static_cast<int>(*v);
    } else if (k == "max_body_bytes") {
      auto v = node.value<int64_t>();
      if (!v || *v < 1024 || *v > (int64_t{64} << 20)) {
        return at(source, &node, "api.max_body_bytes", "must be 1024 to 67108864");
      }
      out.api.max_body_bytes = static_cast<uint64_t>(*v);
    } else {
      return at(source, &node, "api." + std::string(k),
                "unknown setting: the settings here are address, port, threads, max_body_bytes");
    }
  }
  return ok_status();
}

Result<std::vector<std::string>> strings(const toml::node& node, std::string_view source,
                                         std::string_view setting) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr) return at(source, &node, setting, "must be a list of strings");
  std::vector<std::string> out;
  for (const auto& e : *arr) {
    auto v = e.value<std::string>();
    if (!v) return at(source, &e, setting, "must be a list of strings");
    out.push_back(*v);
  }
  return out;
}

Status read_server(const toml::table& t, std::string_view source, ServerConfig& out) {
  for (const auto& [key, node] : t) {
    std::string_view k = key.str();
    if (k == "dns") {
      TETHER_ASSIGN_OR_RETURN(out.dns, strings(node, source, "server.dns"));
    } else if (k == "ips") {
      TETHER_ASSIGN_OR_RETURN(out.ips, strings(node, source, "server.ips"));
    } else if (k == "certificate_days") {
      auto v = node.value<int64_t>();
      if (!v || *v < 2 || *v > 397) {
        return at(source, &node, "server.certificate_days", "must be 2 to 397");
      }
      out.server_certificate_days = static_cast<int>(*v);
    } else {
      return at(source, &node, "server." + std::string(k),
                "unknown setting: the settings here are dns, ips, certificate_days");
    }
  }
  if (out.dns.empty() && out.ips.empty()) {
    return at(source, nullptr, "server.dns",
              "the server certificate needs at least one name: set dns or ips");
  }
  return ok_status();
}

// The route the server has when its file names none: /whoami answers any connector with its
// identity, so the first request works with nothing else running.
gateway::Route whoami_route() {
  gateway::Route r;
  r.name = "whoami";
  r.match.path_prefix = "/whoami";
  r.internal_upstream = std::string(gateway::kWhoamiUpstream);
  r.allow.push_back(gateway::parse_rule("tenant:*", "whoami route").value());
  return r;
}

}  // namespace

Result<ServerConfig> parse_server_config(std::string_view text, std::string_view source,
                                         const ServerPaths& paths) {
  ServerConfig out;
  out.api.port = kDefaultApiPort;
  TETHER_ASSIGN_OR_RETURN(toml::table root, gateway::parse_toml(text, source));
  if (const toml::node* api = root.get("api")) {
    if (!api->is_table()) return at(source, api, "api", "must be a table: write [api]");
    TETHER_TRY(read_api(*api->as_table(), source, out));
  }
  if (const toml::node* server = root.get("server")) {
    if (!server->is_table()) return at(source, server, "server", "must be a table: write [server]");
    TETHER_TRY(read_server(*server->as_table(), source, out));
  }
  gateway::EmbeddedDefaults defaults;
  defaults.server_cert = paths.server_chain;
  defaults.server_key = paths.server_key;
  defaults.trust = {pki::CaPaths::in(paths.data_dir).root_cert};
  defaults.store_path = paths.store;
  defaults.listener_port = kDefaultGatewayPort;
  defaults.default_routes = {whoami_route()};
  defaults.owner_tables = {"api", "server"};
  TETHER_ASSIGN_OR_RETURN(out.gateway, gateway::embedded_config(root, source, defaults));
  return out;
}

Result<ServerConfig> read_server_config(const std::string& config_path, const ServerPaths& paths) {
  if (config_path.empty()) return parse_server_config("", "(defaults)", paths);
  TETHER_ASSIGN_OR_RETURN(std::string text, fs::read_file(config_path, "server config"));
  return parse_server_config(text, config_path, paths);
}

}  // namespace tether::server

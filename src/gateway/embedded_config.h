// Reading the gateway's settings out of a config file that an owner embedding the gateway
// (tether server) shares with its own settings: the owner parses the file once and hands the
// gateway the document. Kept apart from config.h so only the owners compile toml++'s header.
#pragma once

#include <toml++/toml.h>

#include "gateway/config.h"

namespace tether::gateway {

// What an owner that embeds the gateway (tether server) provides itself, so its config file may
// leave it out: the listener's certificate, key and trust anchors (the owner's own), the store
// (the owner's; a store.path in the file is refused), routes when the file has none, and
// top-level tables of its own settings that this parser skips.
struct EmbeddedDefaults {
  std::string server_cert;
  std::string server_key;
  std::vector<std::string> trust;
  std::string store_path;
  uint16_t listener_port = 0;
  std::vector<Route> default_routes;
  std::vector<std::string> owner_tables;
};
// The gateway's settings of a document the owner parsed (parse_toml) and reads its own tables of.
Result<Config> embedded_config(const toml::table& root, std::string_view source_name,
                               const EmbeddedDefaults& defaults);

// Parses TOML; a syntax error is Errc::parse_error naming source, line and column.
Result<toml::table> parse_toml(std::string_view toml, std::string_view source_name);

}  // namespace tether::gateway

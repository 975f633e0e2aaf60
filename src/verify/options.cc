#include "verify/options.h"

namespace tether::verify {

Result<Purpose> parse_purpose(std::string_view text) {
  if (text == "client") return Purpose::client;
  if (text == "server") return Purpose::server;
  if (text == "any") return Purpose::any;
  return make_error(Errc::invalid_argument,
                    "unknown purpose '" + std::string(text) + "': use client, server or any");
}

}  // namespace tether::verify

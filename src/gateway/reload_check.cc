#include "gateway/reload_check.h"

#include <algorithm>
#include <string>

namespace tether::gateway {

namespace {

Status restart_needed(std::string_view setting, std::string_view running, std::string_view next) {
  return make_error(Errc::invalid_argument,
                    std::string(setting) + " changed from " + std::string(running) + " to " +
                        std::string(next) +
                        ": this takes a restart; the running configuration stays in force");
}

}  // namespace

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

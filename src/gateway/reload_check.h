// Which changes a running gateway can take in place on reload, and which need a restart.
#pragma once

#include <cstdint>
#include <vector>

#include "common/error.h"
#include "gateway/config.h"

namespace tether::gateway {

// The listener ports a config asks for besides listener.port: those of routes with a port.
std::vector<uint16_t> extra_listener_ports(const Config& config);

// A reload may change certificates, trust, routes and limits; what needs sockets or threads
// rebuilt (addresses, ports, workers, the store) needs a restart. Errc::invalid_argument names
// the setting that changed.
Status check_reloadable(const Config& running, const Config& next);

}  // namespace tether::gateway

// `tether gateway`: the whole gateway process. Reads the config, loads the revocation set,
// starts one event loop per worker with its listeners, the admin listener, the revocation feed
// and the reload watcher, and runs until SIGINT or SIGTERM.
#pragma once

#include <string>

#include "common/error.h"

namespace tether::gateway {

// Runs until stopped by a signal. Returns an error (with the setting or file at fault) when the
// gateway cannot start: nothing is served then. Writes JSON log lines on stdout, among them
//   {"event":"listening","listener":"tls"|"tcp"|"admin","address":...,"port":N}
//   {"event":"ready", ...}
// once every listener is open and the revocation set is loaded.
Status run_gateway(const std::string& config_path);

}  // namespace tether::gateway

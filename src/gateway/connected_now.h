// Who is connected now, gathered from every worker's LiveConnections on demand: a task on each
// worker's loop tallies its connections, and the caller waits for the answers, bounded. The
// connections' own paths (open, request, close) take no lock for it; asking costs one task per
// worker, when someone asks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gateway/live_connections.h"

namespace tether::gateway {

// The connections of one identity open at this moment, across every worker.
struct ConnectedIdentity {
  std::string identity;              // "connector/acme/edge-1", "service/billing", ...
  uint64_t connections = 0;          // open now, past their handshake
  std::vector<std::string> serials;  // the certificates they presented, sorted, each once
};

struct ConnectedNow {
  std::vector<ConnectedIdentity> identities;  // by identity
  // Workers that did not answer within the wait (a loop busy for that long): their
  // connections are missing from `identities`.
  size_t workers_unanswered = 0;
};

// A worker's connections and how to run a task on the one thread that touches them.
struct LiveSource {
  std::function<void(std::function<void()>)> post;
  const LiveConnections* live;
};

// Asks every source and waits at most `wait` for their answers. A source that answers later
// adds nothing (its task only sees that nobody waits any more). Never call it from one of the
// sources' threads: that one could not answer until the wait ran out.
ConnectedNow gather_connected_now(const std::vector<LiveSource>& sources,
                                  std::chrono::milliseconds wait);

}  // namespace tether::gateway

#include "gateway/connected_now.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

namespace tether::gateway {

namespace {

// The answers to one call. Shared with the tasks, which may run after the caller stopped
// waiting.
struct Tally {
  std::mutex mutex;
  std::condition_variable answered;
  size_t unanswered = 0;
  bool abandoned = false;  // the caller stopped waiting: later answers are not wanted
  std::map<std::string, ConnectedIdentity, std::less<>> by_identity;
};

}  // namespace

ConnectedNow gather_connected_now(const std::vector<LiveSource>& sources,
                                  std::chrono::milliseconds wait) {
  auto tally = std::make_shared<Tally>();
  tally->unanswered = sources.size();
  for (const LiveSource& source : sources) {
    const LiveConnections* live = source.live;
    source.post([live, tally] {
      std::lock_guard lock(tally->mutex);
      if (tally->abandoned) return;
      live->tally([&](std::string_view identity, const std::string& serial) {
        auto it = tally->by_identity.find(identity);
        if (it == tally->by_identity.end()) {
          it = tally->by_identity.emplace(std::string(identity), ConnectedIdentity{}).first;
          it->second.identity = std::string(identity);
        }
        ++it->second.connections;
        auto& serials = it->second.serials;
        if (std::find(serials.begin(), serials.end(), serial) == serials.end()) {
          serials.push_back(serial);
        }
      });
      --tally->unanswered;
      tally->answered.notify_all();
    });
  }
  ConnectedNow out;
  std::unique_lock lock(tally->mutex);
  tally->answered.wait_for(lock, wait, [&] { return tally->unanswered == 0; });
  out.workers_unanswered = tally->unanswered;
  tally->abandoned = true;
  auto by_identity = std::move(tally->by_identity);
  lock.unlock();
  for (auto& [name, identity] : by_identity) {
    std::sort(identity.serials.begin(), identity.serials.end());
    out.identities.push_back(std::move(identity));
  }
  return out;
}

}  // namespace tether::gateway

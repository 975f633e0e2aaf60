// Revocation listeners of one database within this process, shared by every handle on it: a
// revocation committed through one handle wakes listeners registered through any other (the
// CA and the gateway of `tether server` each hold their own handle on the same file). Other
// processes are not told; they poll.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store/revocation_feed.h"
#include "store/subscription.h"

namespace tether::store {

class InProcessListeners : public std::enable_shared_from_this<InProcessListeners> {
 public:
  // The listeners of the database `key` names (one key per database file), created on first use
  // and kept while a handle or a subscription holds them.
  static std::shared_ptr<InProcessListeners> for_database(const std::string& key);

  Subscription subscribe(RevocationFeed::Listener listener);

  // Calls every listener with `cursor`. The lock is held across the calls, so a subscription
  // cancelled elsewhere waits for a call in progress and is never called after: that is why a
  // listener must not subscribe or cancel.
  void notify(int64_t cursor);

 private:
  std::mutex mutex_;
  uint64_t next_id_ = 0;
  std::map<uint64_t, RevocationFeed::Listener> listeners_;
};

}  // namespace tether::store

// The revocation feed a gateway follows to keep its in-memory revoked set
// (gateway/revocation_cache.h).
//
// The cursor read is the truth; a push is only a wake-up. A gateway in another process polls
// revocations_after(); one in the process that revokes (`tether server`) may also subscribe()
// and read at once instead of waiting for its next poll.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/error.h"
#include "store/records.h"
#include "store/subscription.h"

namespace tether::store {

class RevocationFeed {
 public:
  // Told the cursor of the newest revocation committed; called on the committing thread after
  // the commit, so it must be quick (wake a reader up), must not use the store handle it came
  // from, and must not subscribe or cancel a subscription.
  using Listener = std::function<void(int64_t cursor)>;

  virtual ~RevocationFeed() = default;

  // Revocations recorded after `cursor` (0: from the start), oldest first, at most `limit`.
  // Revocations are never deleted and cursors only grow, so following the cursor sees each one
  // exactly once.
  virtual Result<std::vector<RevocationEntry>> revocations_after(int64_t cursor, int limit) = 0;

  // Calls `listener` after each committed revocation the adapter can observe, until the returned
  // subscription is destroyed. An adapter that cannot push returns an empty subscription, and
  // the reader relies on polling alone.
  virtual Subscription subscribe(Listener listener) {
    (void)listener;
    return {};
  }
};

}  // namespace tether::store

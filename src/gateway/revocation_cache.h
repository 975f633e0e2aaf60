// The gateway's in-memory set of revoked serials, fed from the store's revocation feed.
//
// Handshakes look serials up without a lock (an atomic shared_ptr to an immutable set); the
// poller builds the next set off the hot path and swaps it in. When the store cannot be read
// the last known set stays in force, and the cache says so (status()).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "store/revocation_feed.h"
#include "tls/handshake_verify.h"

namespace tether::gateway {

struct RevocationStatus {
  size_t loaded = 0;         // serials in the set
  int64_t cursor = 0;        // last revocation_log position applied
  int64_t last_sync_ms = 0;  // wall clock (ms since epoch) of the last successful sync; 0 never
  std::string last_error;    // empty while the store answers
};

class RevocationCache final : public tls::RevocationSet {
 public:
  // Called with the serials newly revoked by a refresh (to close their live connections).
  using OnRevoked = std::function<void(const std::vector<std::string>&)>;

  explicit RevocationCache(OnRevoked on_revoked = {});

  bool is_revoked(std::string_view serial_hex) const override;

  // Applies every revocation recorded since the last refresh. On a store error the current set
  // is kept and the error is returned (and reported by status()).
  Status refresh(store::RevocationFeed& feed);

  RevocationStatus status() const;

 private:
  // Transparent hashing: a handshake looks a string_view up without allocating.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Set = std::unordered_set<std::string, Hash, std::equal_to<>>;
  std::atomic<std::shared_ptr<const Set>> serials_;
  OnRevoked on_revoked_;
  mutable std::mutex status_mutex_;  // guards status_ (never taken on the handshake path)
  RevocationStatus status_;
};

// Refreshes a RevocationCache from its own feed (its own store handle, used only on the poller's
// thread) every `interval` on a background thread, until destroyed. When the feed pushes (a
// revocation committed in this process), the poller refreshes at once instead of at the next
// interval; the interval still catches revocations made by other processes.
class RevocationPoller {
 public:
  RevocationPoller(std::shared_ptr<RevocationCache> cache,
                   std::unique_ptr<store::RevocationFeed> feed, std::chrono::milliseconds interval);
  ~RevocationPoller();
  RevocationPoller(const RevocationPoller&) = delete;
  RevocationPoller& operator=(const RevocationPoller&) = delete;

 private:
  void run();
  void wake();

  std::shared_ptr<RevocationCache> cache_;
  std::unique_ptr<store::RevocationFeed> feed_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool pushed_ = false;  // a revocation was pushed since the last refresh began
  std::thread thread_;
  store::Subscription pushes_;  // last: cancelled first, before what it wakes is torn down
};

}  // namespace tether::gateway

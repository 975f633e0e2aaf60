#include "gateway/revocation_cache.h"

namespace tether::gateway {

namespace {
// Revocations applied per store read; a large backlog is taken in several reads.
constexpr int kBatch = 10000;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

RevocationCache::RevocationCache(OnRevoked on_revoked)
    : serials_(std::make_shared<const Set>()), on_revoked_(std::move(on_revoked)) {}

bool RevocationCache::is_revoked(std::string_view serial_hex) const {
  std::shared_ptr<const Set> set = serials_.load(std::memory_order_acquire);
  return set->find(serial_hex) != set->end();
}

Status RevocationCache::refresh(store::RevocationFeed& feed) {
  int64_t cursor = 0;
  {
    std::lock_guard lock(status_mutex_);
    cursor = status_.cursor;
  }
  std::vector<std::string> added;
  for (;;) {
    auto entries = feed.revocations_after(cursor, kBatch);
    if (!entries) {
      std::lock_guard lock(status_mutex_);
      status_.last_error = entries.error().message;
      return std::move(entries).error();
    }
    for (auto& e : *entries) {
      cursor = e.cursor;
      added.push_back(std::move(e.serial));
    }
    if (static_cast<int>(entries->size()) < kBatch) break;
  }
  size_t loaded = serials_.load(std::memory_order_acquire)->size();
  if (!added.empty()) {
    // Copy-on-write: readers keep the set they loaded; the next handshake sees the new one.
    auto next = std::make_shared<Set>(*serials_.load(std::memory_order_acquire));
    next->insert(added.begin(), added.end());
    loaded = next->size();
    serials_.store(std::move(next), std::memory_order_release);
  }
  {
    std::lock_guard lock(status_mutex_);
    status_.loaded = loaded;
    status_.cursor = cursor;
    status_.last_sync_ms = now_ms();
    status_.last_error.clear();
  }
  if (!added.empty() && on_revoked_) on_revoked_(added);
  return ok_status();
}

RevocationStatus RevocationCache::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

RevocationPoller::RevocationPoller(std::shared_ptr<RevocationCache> cache,
                                   std::unique_ptr<store::RevocationFeed> feed,
                                   std::chrono::milliseconds interval)
    : cache_(std::move(cache)), feed_(std::move(feed)), interval_(interval) {
  // The listener runs on the revoking thread: it only wakes this poller, which reads the feed
  // on its own thread with its own handle.
  pushes_ = feed_->subscribe([this](int64_t) { wake(); });
  thread_ = std::thread([this] { run(); });
}

RevocationPoller::~RevocationPoller() {
  pushes_.reset();  // no wake() runs after this
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void RevocationPoller::wake() {
  {
    std::lock_guard lock(mutex_);
    pushed_ = true;
  }
  wake_.notify_all();
}

void RevocationPoller::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Cleared before reading: a push that arrives during the refresh brings another one.
    pushed_ = false;
    lock.unlock();
    // A failed refresh keeps the last known set; status() carries the error for logs/metrics.
    (void)cache_->refresh(*feed_);
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_ || pushed_; });
  }
}

}  // namespace tether::gateway

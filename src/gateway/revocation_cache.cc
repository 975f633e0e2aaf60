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

Status RevocationCache::refresh(store::Store& store) {
  int64_t cursor = 0;
  {
    std::lock_guard lock(status_mutex_);
    cursor = status_.cursor;
  }
  std::vector<std::string> added;
  for (;;) {
    auto entries = store.revocations_after(cursor, kBatch);
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
                                   std::unique_ptr<store::Store> store,
                                   std::chrono::milliseconds interval)
    : cache_(std::move(cache)), store_(std::move(store)), interval_(interval) {
  thread_ = std::thread([this] { run(); });
}

RevocationPoller::~RevocationPoller() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void RevocationPoller::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    // A failed refresh keeps the last known set; status() carries the error for logs/metrics.
    (void)cache_->refresh(*store_);
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace tether::gateway

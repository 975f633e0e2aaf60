#include "store/in_process_listeners.h"

#include <utility>

namespace tether::store {

std::shared_ptr<InProcessListeners> InProcessListeners::for_database(const std::string& key) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<InProcessListeners>> registry;
  std::lock_guard lock(registry_mutex);
  std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
  std::weak_ptr<InProcessListeners>& slot = registry[key];
  std::shared_ptr<InProcessListeners> listeners = slot.lock();
  if (!listeners) {
    listeners = std::make_shared<InProcessListeners>();
    slot = listeners;
  }
  return listeners;
}

Subscription InProcessListeners::subscribe(RevocationFeed::Listener listener) {
  std::lock_guard lock(mutex_);
  uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  // The subscription keeps these listeners alive: it may outlive every store handle.
  return Subscription([self = shared_from_this(), id] {
    std::lock_guard cancel_lock(self->mutex_);
    self->listeners_.erase(id);
  });
}

void InProcessListeners::notify(int64_t cursor) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, listener] : listeners_) listener(cursor);
}

}  // namespace tether::store

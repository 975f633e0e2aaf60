#include "server/store_pool.h"

namespace tether::server {

Result<StorePool::Lease> StorePool::borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(handle));
    }
  }
  TETHER_ASSIGN_OR_RETURN(auto handle, open_());
  return Lease(*this, std::move(handle));
}

void StorePool::give_back(std::unique_ptr<store::Store> handle) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(handle));
}

}  // namespace tether::server

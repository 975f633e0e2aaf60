// Store handles for the API's threads. A store handle is used by one thread at a time
// (store/sqlite_store.h), and a request may run on any of the API's threads, so each request
// borrows a handle for its duration and gives it back. Handles are opened on demand and kept:
// at most one per thread that ever ran a request at the same time as the others.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "store/store.h"

namespace tether::server {

class StorePool {
 public:
  using Opener = std::function<Result<std::unique_ptr<store::Store>>()>;
  explicit StorePool(Opener open) : open_(std::move(open)) {}

  class Lease {
   public:
    Lease(StorePool& pool, std::unique_ptr<store::Store> handle)
        : pool_(&pool), handle_(std::move(handle)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease() {
      if (handle_) pool_->give_back(std::move(handle_));
    }
    store::Store& operator*() const { return *handle_; }
    store::Store* operator->() const { return handle_.get(); }

   private:
    StorePool* pool_;
    std::unique_ptr<store::Store> handle_;
  };

  Result<Lease> borrow();

 private:
  void give_back(std::unique_ptr<store::Store> handle);

  Opener open_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<store::Store>> idle_;
};

}  // namespace tether::server

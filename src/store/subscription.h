// A registration that lasts as long as this object: destroying it (or reset()) cancels it.
#pragma once

#include <functional>
#include <utility>

namespace tether::store {

class Subscription {
 public:
  // An empty subscription: nothing was registered (the adapter cannot push).
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  ~Subscription() { reset(); }
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      cancel_ = std::exchange(other.cancel_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Whether something is registered.
  explicit operator bool() const { return static_cast<bool>(cancel_); }

  // Cancels the registration. When it returns, the listener is not running and is never called
  // again.
  void reset() {
    if (cancel_) std::exchange(cancel_, nullptr)();
  }

 private:
  std::function<void()> cancel_;
};

}  // namespace tether::store

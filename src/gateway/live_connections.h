// The client connections of one event loop, by the serial of the certificate they presented,
// so that a revocation closes them at once rather than when they next reconnect.
//
// Owned by one worker and used only on its thread: no lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tether::gateway {

class LiveConnections {
 public:
  // What closing one connection does (shut its socket down). Called on the worker's thread.
  using Closer = std::function<void()>;
  using Handle = std::multimap<std::string, Closer>::iterator;

  Handle add(std::string serial_hex, Closer close) {
    return by_serial_.emplace(std::move(serial_hex), std::move(close));
  }
  void remove(Handle handle) { by_serial_.erase(handle); }

  // Closes every connection of these serials; returns how many it closed. The connections
  // remove themselves as their coroutines end.
  size_t close_serials(const std::vector<std::string>& serials) {
    size_t closed = 0;
    for (const auto& serial : serials) {
      auto [begin, end] = by_serial_.equal_range(serial);
      for (auto it = begin; it != end; ++it) {
        it->second();
        ++closed;
      }
    }
    return closed;
  }

 private:
  // std::multimap: a handle (iterator) stays valid while others are added and removed.
  std::multimap<std::string, Closer> by_serial_;
};

}  // namespace tether::gateway

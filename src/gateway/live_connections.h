// The client connections of one event loop, by the serial of the certificate they presented,
// so that a revocation closes them at once rather than when they next reconnect, and so that
// the gateway can say who is connected now (tally()).
//
// Owned by one worker and used only on its thread: no lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tether::gateway {

class LiveConnections {
 public:
  // What closing one connection does (shut its socket down). Called on the worker's thread.
  using Closer = std::function<void()>;
  struct Entry {
    // The connection's identity name ("connector/acme/edge-1"), owned by the connection, which
    // outlives its registration.
    std::string_view identity;
    Closer close;
  };
  using Handle = std::multimap<std::string, Entry>::iterator;

  Handle add(std::string serial_hex, std::string_view identity, Closer close) {
    return by_serial_.emplace(std::move(serial_hex), Entry{identity, std::move(close)});
  }
  void remove(Handle handle) { by_serial_.erase(handle); }

  // Closes every connection of these serials; returns how many it closed. The connections
  // remove themselves as their coroutines end.
  size_t close_serials(const std::vector<std::string>& serials) {
    size_t closed = 0;
    for (const auto& serial : serials) {
      auto [begin, end] = by_serial_.equal_range(serial);
      for (auto it = begin; it != end; ++it) {
        it->second.close();
        ++closed;
      }
    }
    return closed;
  }

  // Calls `visit(identity, serial_hex)` once per connection.
  void tally(const std::function<void(std::string_view, const std::string&)>& visit) const {
    for (const auto& [serial, entry] : by_serial_) visit(entry.identity, serial);
  }

 private:
  // std::multimap: a handle (iterator) stays valid while others are added and removed.
  std::multimap<std::string, Entry> by_serial_;
};

}  // namespace tether::gateway

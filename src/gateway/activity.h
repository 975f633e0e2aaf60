// What a worker saw since the last flush: the certificates accepted handshakes presented (the
// latest time per serial) and how many handshakes ended with each reason, per minute. One
// buffer per worker, written only on that worker's thread: recording takes no lock, makes no
// store call, and allocates only while the buffer grows to its working size (clear() keeps the
// memory, and a serial seen again reuses its slot). The activity writer (activity_writer.h)
// collects the buffers and writes them to the store.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/handshake_reason.h"
#include "store/records.h"

namespace tether::gateway {

// Serial -> latest presentation time, open addressing over slots that keep their strings'
// memory across clear(): after the first interval, recording a serial allocates nothing.
class PresentationTable {
 public:
  // Keeps the later of `at` and the time already held for `serial`.
  void put(std::string_view serial, int64_t at);
  size_t size() const { return used_.size(); }
  bool empty() const { return used_.empty(); }
  void clear();
  // By serial.
  std::vector<store::Presentation> entries() const;
  void merge(const PresentationTable& other);

 private:
  struct Slot {
    std::string serial;
    int64_t at = 0;
    bool used = false;
  };
  void grow();

  std::vector<Slot> slots_;     // a power of two in size, at most half used; empty at first
  std::vector<uint32_t> used_;  // the used slots' indices, for clear() and entries()
};

class ActivityBuffer {
 public:
  // A completed handshake (accepted, or refused for `reason`) at `unix_seconds`.
  void handshake(HandshakeReason reason, int64_t unix_seconds);
  // An accepted handshake's certificate.
  void presented(std::string_view serial_hex, int64_t unix_seconds) {
    presentations_.put(serial_hex, unix_seconds);
  }

  // Adds what `other` holds (the writer gathering the workers' buffers).
  void merge(const ActivityBuffer& other);
  bool empty() const { return presentations_.empty() && minutes_.empty(); }
  void clear() {
    clear_presentations();
    clear_handshake_counts();
  }
  void clear_presentations() { presentations_.clear(); }
  void clear_handshake_counts() { minutes_.clear(); }
  // Forgets the counts of minutes before `minute` (unix seconds); returns how many handshakes
  // that dropped. Bounds what a writer keeps while the store refuses its writes.
  uint64_t drop_counts_before(int64_t minute);

  // By serial.
  std::vector<store::Presentation> presentations() const { return presentations_.entries(); }
  // By minute, then outcome ("ok" before "refused"), then reason in failure-table order; only
  // the reasons that happened.
  std::vector<store::HandshakeCount> handshake_counts() const;
  size_t presentation_count() const { return presentations_.size(); }
  uint64_t handshake_total() const;

 private:
  struct Minute {
    int64_t start = 0;  // unix seconds, a multiple of 60
    std::array<uint64_t, kHandshakeReasons.size()> by_reason{};
  };
  Minute& minute_of(int64_t start);

  PresentationTable presentations_;
  // Oldest first. A flush interval spans one or two minutes, so this stays tiny and a linear
  // search from the back finds the current minute at once.
  std::vector<Minute> minutes_;
};

// The minute `unix_seconds` falls in: unix seconds / 60 * 60, rounding down before 1970 too.
int64_t minute_start(int64_t unix_seconds);

}  // namespace tether::gateway

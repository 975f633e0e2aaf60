#include "gateway/activity.h"

#include <algorithm>
#include <functional>

namespace tether::gateway {

namespace {

size_t hash_of(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

}  // namespace

int64_t minute_start(int64_t unix_seconds) {
  int64_t m = unix_seconds / 60;
  if (unix_seconds % 60 < 0) --m;
  return m * 60;
}

void PresentationTable::put(std::string_view serial, int64_t at) {
  if ((used_.size() + 1) * 2 > slots_.size()) grow();
  size_t mask = slots_.size() - 1;
  for (size_t i = hash_of(serial) & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (!slot.used) {
      slot.serial.assign(serial);  // reuses the slot's memory when it held a serial before
      slot.at = at;
      slot.used = true;
      used_.push_back(static_cast<uint32_t>(i));
      return;
    }
    if (slot.serial == serial) {
      slot.at = std::max(slot.at, at);
      return;
    }
  }
}

void PresentationTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  std::vector<uint32_t> old_used = std::move(used_);
  slots_ = std::vector<Slot>(std::max<size_t>(16, old.size() * 2));
  used_.clear();
  used_.reserve(slots_.size() / 2);
  size_t mask = slots_.size() - 1;
  for (uint32_t index : old_used) {
    Slot& from = old[index];
    size_t i = hash_of(from.serial) & mask;
    while (slots_[i].used) i = (i + 1) & mask;
    slots_[i] = std::move(from);
    used_.push_back(static_cast<uint32_t>(i));
  }
}

void PresentationTable::clear() {
  for (uint32_t index : used_) slots_[index].used = false;
  used_.clear();
}

std::vector<store::Presentation> PresentationTable::entries() const {
  std::vector<store::Presentation> out;
  out.reserve(used_.size());
  for (uint32_t index : used_) out.push_back({slots_[index].serial, slots_[index].at});
  std::sort(out.begin(), out.end(), [](const store::Presentation& a, const store::Presentation& b) {
    return a.serial < b.serial;
  });
  return out;
}

void PresentationTable::merge(const PresentationTable& other) {
  for (uint32_t index : other.used_) put(other.slots_[index].serial, other.slots_[index].at);
}

ActivityBuffer::Minute& ActivityBuffer::minute_of(int64_t start) {
  for (auto it = minutes_.rbegin(); it != minutes_.rend(); ++it) {
    if (it->start == start) return *it;
    if (it->start < start) {
      // Newer than every minute after `it` (the usual case: at the back, time moves on).
      return *minutes_.insert(it.base(), Minute{start, {}});
    }
  }
  return *minutes_.insert(minutes_.begin(), Minute{start, {}});
}

void ActivityBuffer::handshake(HandshakeReason reason, int64_t unix_seconds) {
  ++minute_of(minute_start(unix_seconds)).by_reason[static_cast<size_t>(reason)];
}

void ActivityBuffer::merge(const ActivityBuffer& other) {
  presentations_.merge(other.presentations_);
  for (const Minute& m : other.minutes_) {
    Minute& into = minute_of(m.start);
    for (size_t i = 0; i < m.by_reason.size(); ++i) into.by_reason[i] += m.by_reason[i];
  }
}

uint64_t ActivityBuffer::drop_counts_before(int64_t minute) {
  uint64_t dropped = 0;
  auto keep = std::find_if(minutes_.begin(), minutes_.end(),
                           [minute](const Minute& m) { return m.start >= minute; });
  for (auto it = minutes_.begin(); it != keep; ++it) {
    for (uint64_t n : it->by_reason) dropped += n;
  }
  minutes_.erase(minutes_.begin(), keep);
  return dropped;
}

std::vector<store::HandshakeCount> ActivityBuffer::handshake_counts() const {
  std::vector<store::HandshakeCount> out;
  for (const Minute& m : minutes_) {
    size_t ok = static_cast<size_t>(HandshakeReason::ok);
    if (m.by_reason[ok] > 0) {
      out.push_back({m.start, "ok", std::string(reason_token(HandshakeReason::ok)),
                     static_cast<int64_t>(m.by_reason[ok])});
    }
    for (HandshakeReason reason : kHandshakeReasons) {
      size_t i = static_cast<size_t>(reason);
      if (reason == HandshakeReason::ok || m.by_reason[i] == 0) continue;
      out.push_back({m.start, "refused", std::string(reason_token(reason)),
                     static_cast<int64_t>(m.by_reason[i])});
    }
  }
  return out;
}

uint64_t ActivityBuffer::handshake_total() const {
  uint64_t total = 0;
  for (const Minute& m : minutes_) {
    for (uint64_t n : m.by_reason) total += n;
  }
  return total;
}

}  // namespace tether::gateway

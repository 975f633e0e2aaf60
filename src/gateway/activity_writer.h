// Writes what the workers' activity buffers (activity.h) hold to the store, every interval, on a
// thread of its own with its own store handle (a SQLite handle serves one thread): the handshake
// path never waits for the store, and a store that is slow or down costs handshakes nothing.
//
// Collecting: each interval the writer posts a task to every worker's event loop, which swaps
// the worker's buffer with an empty spare and hands it over. A task on the loop the buffer
// belongs to is the one way to take it without a lock or an atomic on the handshake path (a
// double buffer swapped by the writer would need the worker to announce, per handshake, that
// it is not writing at that moment). A worker that does not answer within kCollectWait (a loop
// stalled on something else) keeps its buffer for the next round; its late task does nothing.
//
// Writing: presentations, then handshake counts, each in one transaction. A refused write is
// logged ({"event":"activity_write_failed"}) and counted (tether_activity_write_failures_total;
// tether_activity_flushes_total counts every flush),
// and its part is kept and merged into the next flush: presentations stay one per serial, and
// counts older than kKeepCountsFor are dropped (and said so), so a store down for long holds a
// bounded amount of memory. On stop, a last flush writes what the stopped workers hold.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gateway/activity.h"
#include "obs/metrics.h"
#include "store/activity_log.h"

namespace tether::gateway {

class ActivityWriter {
 public:
  // A worker's buffer and how to run a task on the one thread that writes it.
  struct Source {
    std::function<void(std::function<void()>)> post;
    ActivityBuffer* buffer;
  };

  static constexpr std::chrono::milliseconds kCollectWait{1000};
  static constexpr std::chrono::minutes kKeepCountsFor{60};

  // Starts the writer's thread; the first flush is one `interval` from now. `log` is used on
  // that thread only.
  ActivityWriter(std::vector<Source> sources, std::unique_ptr<store::ActivityLog> log,
                 std::chrono::milliseconds interval, obs::GatewayMetrics& metrics);
  // stop().
  ~ActivityWriter();
  ActivityWriter(const ActivityWriter&) = delete;
  ActivityWriter& operator=(const ActivityWriter&) = delete;

  // No more tasks are posted to the sources, and a collection under way stops waiting: call it
  // before stopping the sources' threads, so that the writer never waits on a loop that ended.
  void pause();
  // After the sources' threads have stopped: reads their buffers directly, writes them (the
  // last flush), and joins the writer's thread.
  void stop();

 private:
  enum class State { running, paused, stopping };

  void run();
  // Takes every source's buffer through its thread (bounded by kCollectWait) into pending_.
  void collect(std::unique_lock<std::mutex>& lock);
  // Writes pending_ and keeps what the store refused. Writer thread only, without the lock.
  void write();

  std::vector<Source> sources_;
  std::unique_ptr<store::ActivityLog> log_;
  std::chrono::milliseconds interval_;
  obs::GatewayMetrics& metrics_;

  std::mutex mutex_;  // guards everything below, never taken by a handshake
  std::condition_variable wake_;
  State state_ = State::running;
  uint64_t round_ = 0;  // a source's task acts only in the round that posted it
  size_t unanswered_ = 0;
  std::vector<bool> answered_;
  std::vector<ActivityBuffer> spares_;  // swapped into the sources' places

  ActivityBuffer pending_;  // writer thread only: collected, not yet written
  std::thread thread_;      // last: starts once everything above exists
};

}  // namespace tether::gateway

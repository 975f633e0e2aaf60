#include "gateway/activity_writer.h"

#include "obs/log_sink.h"

namespace tether::gateway {

ActivityWriter::ActivityWriter(std::vector<Source> sources, std::unique_ptr<store::ActivityLog> log,
                               std::chrono::milliseconds interval, obs::GatewayMetrics& metrics)
    : sources_(std::move(sources)),
      log_(std::move(log)),
      interval_(interval),
      metrics_(metrics),
      answered_(sources_.size(), false),
      spares_(sources_.size()),
      thread_([this] { run(); }) {}

ActivityWriter::~ActivityWriter() {
  stop();
}

void ActivityWriter::pause() {
  std::lock_guard lock(mutex_);
  if (state_ == State::running) state_ = State::paused;
  wake_.notify_all();
}

void ActivityWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    state_ = State::stopping;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void ActivityWriter::run() {
  std::unique_lock lock(mutex_);
  auto next = std::chrono::steady_clock::now() + interval_;
  while (state_ == State::running) {
    if (wake_.wait_until(lock, next, [this] { return state_ != State::running; })) break;
    collect(lock);
    lock.unlock();
    write();
    lock.lock();
    metrics_.activity_flushed();
    // From the end of this flush: a slow store spaces the flushes out rather than queueing them.
    next = std::chrono::steady_clock::now() + interval_;
  }
  wake_.wait(lock, [this] { return state_ == State::stopping; });
  // The sources' threads have ended (stop()'s precondition): their buffers are ours now.
  for (const Source& source : sources_) {
    pending_.merge(*source.buffer);
    source.buffer->clear();
  }
  lock.unlock();
  write();
  metrics_.activity_flushed();
}

void ActivityWriter::collect(std::unique_lock<std::mutex>& lock) {
  uint64_t round = ++round_;
  unanswered_ = sources_.size();
  answered_.assign(sources_.size(), false);
  lock.unlock();
  for (size_t i = 0; i < sources_.size(); ++i) {
    sources_[i].post([this, i, round] {
      std::lock_guard task_lock(mutex_);
      if (round != round_) return;  // the writer gave up on this round: keep the buffer
      std::swap(*sources_[i].buffer, spares_[i]);
      answered_[i] = true;
      --unanswered_;
      wake_.notify_all();
    });
  }
  lock.lock();
  wake_.wait_for(lock, kCollectWait,
                 [this] { return unanswered_ == 0 || state_ != State::running; });
  ++round_;  // tasks that have not run yet do nothing
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (!answered_[i]) continue;
    pending_.merge(spares_[i]);
    spares_[i].clear();
  }
}

void ActivityWriter::write() {
  std::vector<store::Presentation> presentations = pending_.presentations();
  if (!presentations.empty()) {
    Status s = log_->record_presentations(presentations);
    if (s.ok()) {
      pending_.clear_presentations();
    } else {
      metrics_.activity_write_failed();
      obs::log_event("activity_write_failed",
                     {{"what", "presentations"},
                      {"error", s.error().message},
                      {"kept", pending_.presentation_count()},
                      {"detail", "kept for the next flush; handshakes are not affected"}});
    }
  }
  std::vector<store::HandshakeCount> counts = pending_.handshake_counts();
  if (counts.empty()) return;
  Status s = log_->add_handshake_counts(counts);
  if (s.ok()) {
    pending_.clear_handshake_counts();
    return;
  }
  metrics_.activity_write_failed();
  int64_t keep_from = minute_start(obs::unix_millis() / 1000) -
                      std::chrono::duration_cast<std::chrono::seconds>(kKeepCountsFor).count();
  uint64_t dropped = pending_.drop_counts_before(keep_from);
  obs::log_event("activity_write_failed",
                 {{"what", "handshake_counts"},
                  {"error", s.error().message},
                  {"kept", pending_.handshake_total()},
                  {"dropped", dropped},
                  {"detail",
                   "kept for the next flush (up to 60 minutes of counts); handshakes "
                   "are not affected"}});
}

}  // namespace tether::gateway

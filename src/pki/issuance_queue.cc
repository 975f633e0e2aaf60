#include "pki/issuance_queue.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

namespace tether::pki {

Result<std::unique_ptr<IssuanceQueue>> IssuanceQueue::start(
    std::unique_ptr<store::CertificateStore> store, Options options) {
  if (options.max_batch < 1 || options.max_batch > kMaxBatchLimit) {
    return make_error(Errc::invalid_argument,
                      "issuance queue max_batch = " + std::to_string(options.max_batch) +
                          ": give 1 to " + std::to_string(kMaxBatchLimit));
  }
  if (!store) {
    return make_error(Errc::invalid_argument, "issuance queue started without a store handle");
  }
  std::unique_ptr<IssuanceQueue> queue(new IssuanceQueue(std::move(store), options));
  // Started only once the object is complete: the thread reads every member.
  queue->committer_ = std::thread([q = queue.get()] { q->run(); });
  return queue;
}

IssuanceQueue::IssuanceQueue(std::unique_ptr<store::CertificateStore> store, Options options)
    : store_(std::move(store)), options_(options) {}

IssuanceQueue::~IssuanceQueue() {
  stop();
}

void IssuanceQueue::submit(store::IssuanceWrite write, Callback done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.push_back(Item{std::move(write), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(make_error(Errc::not_ready,
                  "the issuance queue has stopped (the server is shutting down): certificate " +
                      store::certificate_of(write).serial +
                      " was not recorded; retry against a running server"));
}

std::future<Status> IssuanceQueue::submit(store::IssuanceWrite write) {
  // std::function needs a copyable callable, so the promise is shared.
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> answer = promise->get_future();
  submit(std::move(write), [promise](Status s) { promise->set_value(std::move(s)); });
  return answer;
}

void IssuanceQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  std::lock_guard join_lock(join_mutex_);
  if (committer_.joinable()) committer_.join();
}

IssuanceQueue::Stats IssuanceQueue::stats() const {
  std::lock_guard lock(mutex_);
  Stats now = stats_;
  now.waiting = pending_.size();
  return now;
}

void IssuanceQueue::run() {
  std::vector<Item> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      // Stopping still drains: every accepted write is committed and answered.
      if (pending_.empty()) return;
      if (pending_.size() <= options_.max_batch) {
        batch.swap(pending_);
      } else {
        auto end = pending_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch);
        batch.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(end));
        pending_.erase(pending_.begin(), end);
      }
    }
    commit(batch);
    batch.clear();
  }
}

void IssuanceQueue::commit(std::vector<Item>& batch) {
  std::vector<store::IssuanceWrite> writes;
  writes.reserve(batch.size());
  for (auto& item : batch) writes.push_back(std::move(item.write));
  auto results = store_->commit_batch(writes);

  uint64_t committed = 0;
  if (results && results->size() == batch.size()) {
    for (const auto& r : *results) committed += r.ok() ? 1 : 0;
  }
  {
    std::lock_guard lock(mutex_);
    if (results) {
      ++stats_.batches;
      stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, batch.size());
    }
    stats_.items_committed += committed;
    stats_.items_failed += batch.size() - committed;
  }
  // Answers only now: COMMIT has returned, so what is answered ok is on disk.
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!results) {
      batch[i].done(results.error());
    } else if (results->size() != batch.size()) {
      batch[i].done(make_error(Errc::store_error,
                               "the store answered " + std::to_string(results->size()) +
                                   " results for a batch of " + std::to_string(batch.size()) +
                                   " writes: none is taken as recorded"));
    } else {
      batch[i].done(std::move((*results)[i]));
    }
  }
}

}  // namespace tether::pki

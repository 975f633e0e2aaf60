// The issuance queue of `tether server`: group commit for issuances.
//
// API handlers sign on their own threads (lifecycle.h: prepare_create_connector and the other
// prepare_* functions) and submit only the store write here. One committer thread takes
// whatever is waiting (up to Options::max_batch writes) and records it in one durable
// transaction (CertificateStore::commit_batch: one commit, so one fsync, for the batch), then
// answers each write's caller. An answer of ok means the certificate and its audit event are
// on disk: only then may the certificate be handed out.
//
// While one batch commits, the next one gathers: the more callers at once, the larger the
// batches, and the fsync's cost is shared among them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/error.h"
#include "store/certificate_store.h"

namespace tether::pki {

class IssuanceQueue {
 public:
  struct Options {
    // The most writes one transaction records. Bounds how long one commit holds the store's
    // write lock, and so how long the CLI or a gateway waits behind it.
    size_t max_batch = 256;
  };
  static constexpr size_t kMaxBatchLimit = 10000;

  // Counted since start; read with stats().
  struct Stats {
    uint64_t batches = 0;          // transactions committed
    uint64_t items_committed = 0;  // writes recorded (answered ok)
    uint64_t items_failed = 0;     // writes answered with an error
    uint64_t largest_batch = 0;    // writes in the largest committed transaction
    uint64_t waiting = 0;          // writes queued now, not yet taken into a transaction
  };

  // Called once per submitted write with its outcome: on the committer thread after the
  // batch's COMMIT returned (ok: durable), or on the submitting thread when the queue had
  // stopped already (Errc::not_ready). Keep it short (post the answer to your own executor):
  // the next batch waits for it. It may submit again; it must not call stop().
  using Callback = std::function<void(Status)>;

  // Starts the committer thread on `store`, a handle that only that thread uses from now on
  // (SqliteStore: one handle per thread). Errc::invalid_argument for a max_batch outside
  // 1..kMaxBatchLimit.
  static Result<std::unique_ptr<IssuanceQueue>> start(
      std::unique_ptr<store::CertificateStore> store, Options options);
  static Result<std::unique_ptr<IssuanceQueue>> start(
      std::unique_ptr<store::CertificateStore> store) {
    return start(std::move(store), Options{});
  }
  ~IssuanceQueue();  // stop()
  IssuanceQueue(const IssuanceQueue&) = delete;
  IssuanceQueue& operator=(const IssuanceQueue&) = delete;

  // Queues one write; `done` is called exactly once with its outcome. The write's own failure
  // (Errc::already_exists, not_found, serial_collision: prepare again) fails it alone, not its
  // batch. Safe from any thread.
  void submit(store::IssuanceWrite write, Callback done);
  // The same, answered through a future (for tools and tests; a server uses the callback).
  std::future<Status> submit(store::IssuanceWrite write);

  // Stops accepting writes (later submits are answered Errc::not_ready), commits and answers
  // every write already queued, and joins the committer. Idempotent; not from a callback.
  void stop();

  Stats stats() const;

 private:
  struct Item {
    store::IssuanceWrite write;
    Callback done;
  };

  IssuanceQueue(std::unique_ptr<store::CertificateStore> store, Options options);
  void run();
  void commit(std::vector<Item>& batch);

  std::unique_ptr<store::CertificateStore> store_;  // the committer thread's alone
  const Options options_;

  // One lock around the waiting writes. It is taken once per issuance (not per request of the
  // gateway), a few thousand times a second at most, beside a signature and an fsync share
  // that each cost far more: a lock-free queue would buy nothing measurable.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Item> pending_;
  bool stopping_ = false;
  Stats stats_;

  std::mutex join_mutex_;  // stop() may be called from two threads at once
  std::thread committer_;
};

}  // namespace tether::pki

#include "pki/issuance_queue.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pki/certificate_authority.h"
#include "pki/file_key_store.h"
#include "pki/lifecycle.h"
#include "store/open.h"
#include "x509/key.h"

namespace tether::pki {
namespace {

constexpr int64_t kNow = 1800000000;  // 2027-01-15
constexpr int kThreads = 16;
constexpr auto kBound = std::chrono::seconds(60);

// Holds the store's write lock from a connection of its own, as another process's transaction
// would: the committer's BEGIN IMMEDIATE waits (up to the store's busy timeout) until release().
class WriteLock {
 public:
  explicit WriteLock(const std::filesystem::path& db) {
    EXPECT_EQ(sqlite3_open(db.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }
  ~WriteLock() {
    release();
    sqlite3_close(db_);
  }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  void release() {
    if (sqlite3_get_autocommit(db_) == 0) {
      EXPECT_EQ(sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

Errc code_of(const Status& s) {
  return s.ok() ? Errc::ok : s.error().code;
}

class IssuanceQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-queue-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = open_handle();
    ASSERT_TRUE(store_);
    auto ca = CertificateAuthority::initialize(
        dir_.string(), *store_,
        [](const std::string& ca_dir) { return std::make_unique<FileKeyStore>(ca_dir, ""); },
        CaInitOptions(), ctx_);
    ASSERT_TRUE(ca.ok()) << ca.error().message;
    ca_ = std::make_unique<CertificateAuthority>(std::move(ca).value());
    auto authority = ca_->issuer(IssuerRole::connector_ca, ctx_);
    ASSERT_TRUE(authority.ok()) << authority.error().message;
    authority_ = *authority;
    ASSERT_TRUE(create_tenant(*store_, ctx_, "acme", "Acme").ok());
  }
  void TearDown() override {
    queue_.reset();
    ca_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path db() const { return dir_ / "tether.db"; }

  std::unique_ptr<store::Store> open_handle() {
    auto opened = store::open(db().string(), {.create = true});
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  void start_queue(IssuanceQueue::Options options = {}) {
    auto queue = IssuanceQueue::start(open_handle(), options);
    ASSERT_TRUE(queue.ok()) << queue.error().message;
    queue_ = std::move(queue).value();
  }

  // A CSR-mode connector issuance, signed and not recorded, prepared through `store` (one
  // handle per thread).
  PreparedIssuance prepare(store::CertificateStore& store, const std::string& id) {
    IssueRequest request;
    request.tenant = "acme";
    request.connector = id;
    request.profile.key_type = x509::KeyType::ecdsa_p256;
    auto key = x509::generate_key(x509::KeyType::ecdsa_p256);
    request.csr = std::move(x509::build_csr(key->get(), "connector/acme/" + id)).value();
    auto prepared = prepare_create_connector(store, *authority_, ctx_, request);
    EXPECT_TRUE(prepared.ok()) << prepared.error().message;
    return std::move(prepared).value();
  }

  // Waits (bounded) until the committer has taken every queued write: it is then inside a
  // transaction, and what is submitted next waits for the one after.
  void wait_until_taken() {
    auto deadline = std::chrono::steady_clock::now() + kBound;
    while (queue_->stats().waiting != 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the committer never took a batch";
      std::this_thread::yield();
    }
  }

  static Status wait(std::future<Status>& answer) {
    if (answer.wait_for(kBound) != std::future_status::ready) {
      return make_error(Errc::store_busy, "no answer within the bound");
    }
    return answer.get();
  }

  // The connector.create events in the store, by serial.
  std::set<std::string> audited(store::Store& store) {
    std::set<std::string> serials;
    auto events = store.list_audit(100000).value();
    for (const auto& e : events) {
      if (e.action == "connector.create") serials.insert(e.serial);
    }
    return serials;
  }

  std::filesystem::path dir_;
  Context ctx_{"test", kNow};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<CertificateAuthority> ca_;
  const Authority* authority_ = nullptr;
  std::unique_ptr<IssuanceQueue> queue_;
};

TEST_F(IssuanceQueueTest, SixteenThreadsSubmittingAtOnceAreAllCommittedWithTheirAuditEvents) {
  constexpr int kPerThread = 6;
  start_queue();
  std::vector<std::vector<std::string>> serials(kThreads);
  std::vector<std::vector<Status>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto handle = open_handle();  // prepare reads the store: one handle per thread
      for (int i = 0; i < kPerThread; ++i) {
        PreparedIssuance p = prepare(*handle, "t" + std::to_string(t) + "-" + std::to_string(i));
        serials[t].push_back(p.bundle.certificate.serial);
        auto answer = queue_->submit(std::move(p.write));
        answers[t].push_back(wait(answer));
      }
    });
  }
  for (auto& th : threads) th.join();

  auto reader = open_handle();
  std::set<std::string> logged = audited(*reader);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_TRUE(answers[t][i].ok()) << answers[t][i].error().message;
      const std::string& serial = serials[t][i];
      auto found = reader->find_certificate_by_serial(serial);
      ASSERT_TRUE(found.ok() && found->has_value()) << "answered ok but not stored: " << serial;
      EXPECT_EQ((*found)->connector_id, "t" + std::to_string(t) + "-" + std::to_string(i));
      EXPECT_TRUE((*found)->csr_mode);
      EXPECT_TRUE(logged.count(serial)) << "no connector.create event for " << serial;
    }
  }
  EXPECT_EQ(logged.size(), static_cast<size_t>(kThreads * kPerThread));
  IssuanceQueue::Stats stats = queue_->stats();
  EXPECT_EQ(stats.items_committed, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(stats.items_failed, 0u);
  EXPECT_GE(stats.batches, 1u);
  EXPECT_LE(stats.batches, stats.items_committed);
}

TEST_F(IssuanceQueueTest, WritesQueuedDuringACommitAreCommittedTogetherInTheNextBatch) {
  constexpr int kPerThread = 16;
  start_queue({.max_batch = 256});
  // Prepared first: what is measured is how the queue groups writes, not signing.
  std::vector<std::vector<PreparedIssuance>> prepared(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      prepared[t].push_back(prepare(*store_, "b" + std::to_string(t) + "-" + std::to_string(i)));
    }
  }
  WriteLock lock(db());
  // The first write is taken at once, and its transaction waits for the lock: every write
  // submitted meanwhile waits for the next one.
  auto first = queue_->submit(prepare(*store_, "first").write);
  wait_until_taken();

  std::vector<std::vector<std::future<Status>>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (auto& p : prepared[t]) answers[t].push_back(queue_->submit(std::move(p.write)));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(queue_->stats().waiting, static_cast<uint64_t>(kThreads * kPerThread));
  lock.release();

  EXPECT_TRUE(wait(first).ok());
  for (auto& per_thread : answers) {
    for (auto& answer : per_thread) {
      Status s = wait(answer);
      EXPECT_TRUE(s.ok()) << s.error().message;
    }
  }
  IssuanceQueue::Stats stats = queue_->stats();
  EXPECT_EQ(stats.items_committed, 1u + kThreads * kPerThread);
  EXPECT_EQ(stats.batches, 2u) << "the first write alone, then all 256 that waited behind it";
  EXPECT_EQ(stats.largest_batch, static_cast<uint64_t>(kThreads * kPerThread));
}

TEST_F(IssuanceQueueTest, BatchLargerThanMaxBatchIsSplit) {
  start_queue({.max_batch = 4});
  std::vector<PreparedIssuance> prepared;
  for (int i = 0; i < 10; ++i) prepared.push_back(prepare(*store_, "m" + std::to_string(i)));
  WriteLock lock(db());
  auto first = queue_->submit(prepare(*store_, "first").write);
  wait_until_taken();
  std::vector<std::future<Status>> answers;
  for (auto& p : prepared) answers.push_back(queue_->submit(std::move(p.write)));
  lock.release();
  EXPECT_TRUE(wait(first).ok());
  for (auto& answer : answers) EXPECT_TRUE(wait(answer).ok());
  IssuanceQueue::Stats stats = queue_->stats();
  EXPECT_EQ(stats.batches, 4u) << "1, then 4 + 4 + 2";
  EXPECT_EQ(stats.largest_batch, 4u);
}

TEST_F(IssuanceQueueTest, DuplicateInABatchFailsAloneWithAlreadyExists) {
  start_queue();
  // Both "dup" issuances are prepared before either is recorded, as two API calls racing
  // would be: each passes prepare's check, and the commit refuses the second.
  PreparedIssuance before = prepare(*store_, "before");
  PreparedIssuance dup_a = prepare(*store_, "dup");
  PreparedIssuance dup_b = prepare(*store_, "dup");
  PreparedIssuance after = prepare(*store_, "after");
  std::string dup_b_serial = dup_b.bundle.certificate.serial;

  WriteLock lock(db());
  auto first = queue_->submit(prepare(*store_, "first").write);
  wait_until_taken();
  auto a0 = queue_->submit(std::move(before.write));
  auto a1 = queue_->submit(std::move(dup_a.write));
  auto a2 = queue_->submit(std::move(dup_b.write));
  auto a3 = queue_->submit(std::move(after.write));
  lock.release();

  EXPECT_TRUE(wait(first).ok());
  EXPECT_EQ(code_of(wait(a0)), Errc::ok);
  EXPECT_EQ(code_of(wait(a1)), Errc::ok);
  Status refused = wait(a2);
  EXPECT_EQ(code_of(refused), Errc::already_exists);
  if (!refused.ok()) {
    EXPECT_NE(refused.error().message.find("'dup'"), std::string::npos);
  }
  EXPECT_EQ(code_of(wait(a3)), Errc::ok);

  IssuanceQueue::Stats stats = queue_->stats();
  EXPECT_EQ(stats.batches, 2u) << "the duplicate shared its batch with its neighbours";
  EXPECT_EQ(stats.items_committed, 4u);
  EXPECT_EQ(stats.items_failed, 1u);
  auto reader = open_handle();
  EXPECT_FALSE(reader->find_certificate_by_serial(dup_b_serial)->has_value());
  EXPECT_EQ(reader->list_certificates({std::string("acme"), std::string("dup")})->size(), 1u);
  EXPECT_EQ(audited(*reader).size(), 4u);
}

TEST_F(IssuanceQueueTest, AnswerComesOnlyOnceTheCertificateIsReadableFromAnotherHandle) {
  constexpr int kCount = 32;
  start_queue();
  // Used only on the committer thread, inside the callbacks, one at a time.
  auto reader = open_handle();
  std::vector<PreparedIssuance> prepared;
  for (int i = 0; i < kCount; ++i) prepared.push_back(prepare(*store_, "r" + std::to_string(i)));
  std::atomic<int> answered{0}, readable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kCount; i += kThreads) {
        std::string serial = prepared[static_cast<size_t>(i)].bundle.certificate.serial;
        queue_->submit(std::move(prepared[static_cast<size_t>(i)].write), [&, serial](Status s) {
          EXPECT_TRUE(s.ok()) << s.error().message;
          auto found = reader->find_certificate_by_serial(serial);
          if (found.ok() && found->has_value()) readable.fetch_add(1);
          answered.fetch_add(1);
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  queue_->stop();  // answers everything first
  EXPECT_EQ(answered.load(), kCount);
  EXPECT_EQ(readable.load(), kCount) << "a write was answered before it was readable";
}

TEST_F(IssuanceQueueTest, StopAnswersEveryWriteQueuedBeforeIt) {
  constexpr int kCount = 20;
  start_queue({.max_batch = 1});  // a commit each: most are still waiting when stop() is called
  std::vector<PreparedIssuance> prepared;
  for (int i = 0; i < kCount; ++i) prepared.push_back(prepare(*store_, "s" + std::to_string(i)));
  std::vector<std::future<Status>> answers;
  for (auto& p : prepared) answers.push_back(queue_->submit(std::move(p.write)));
  queue_->stop();
  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::ready)
        << "stop() returned before answering a queued write";
    Status s = answer.get();
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  EXPECT_EQ(queue_->stats().items_committed, static_cast<uint64_t>(kCount));
}

TEST_F(IssuanceQueueTest, SubmitAfterStopIsRefusedAsNotReadyAndRecordsNothing) {
  start_queue();
  PreparedIssuance late = prepare(*store_, "late");
  std::string serial = late.bundle.certificate.serial;
  queue_->stop();
  queue_->stop();  // idempotent
  auto answer = queue_->submit(std::move(late.write));
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::ready)
      << "a stopped queue answers at once, on the submitting thread";
  Status s = answer.get();
  ASSERT_EQ(code_of(s), Errc::not_ready);
  EXPECT_NE(s.error().message.find(serial), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("stopped"), std::string::npos) << s.error().message;
  EXPECT_FALSE(store_->find_certificate_by_serial(serial)->has_value());
  EXPECT_EQ(queue_->stats().items_committed, 0u);
}

TEST_F(IssuanceQueueTest, MaxBatchOutsideItsRangeIsRefused) {
  for (size_t bad : {size_t{0}, IssuanceQueue::kMaxBatchLimit + 1}) {
    auto queue = IssuanceQueue::start(open_handle(), {.max_batch = bad});
    ASSERT_FALSE(queue.ok());
    EXPECT_EQ(queue.error().code, Errc::invalid_argument);
    EXPECT_NE(queue.error().message.find("max_batch = " + std::to_string(bad)), std::string::npos);
  }
}

}  // namespace
}  // namespace tether::pki

// The workers' activity buffers (what handshakes saw) and the writer that takes them to the
// store: aggregation, collection through the workers' loops, the last flush on stop, and a
// store that refuses writes.
#include "gateway/activity.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "gateway/activity_writer.h"
#include "obs/log_sink.h"
#include "store/open.h"

namespace tether::gateway {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

std::string describe(const std::vector<store::HandshakeCount>& rows) {
  std::string out;
  for (const auto& r : rows) {
    out += std::to_string(r.minute) + " " + r.outcome + "/" + r.reason + " " +
           std::to_string(r.count) + "; ";
  }
  return out;
}

TEST(PresentationTable, KeepsTheLatestTimePerSerial) {
  PresentationTable table;
  table.put("0a01", 100);
  table.put("0a02", 300);
  table.put("0a01", 250);
  table.put("0a01", 200);  // older than the one held
  auto entries = table.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].serial, "0a01");
  EXPECT_EQ(entries[0].at, 250);
  EXPECT_EQ(entries[1].serial, "0a02");
  EXPECT_EQ(entries[1].at, 300);
}

TEST(PresentationTable, HoldsEverySerialAcrossGrowthAndIsReusableAfterClear) {
  PresentationTable table;
  constexpr int kSerials = 1000;  // several growths past the first 16 slots
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kSerials; ++i) table.put("serial-" + std::to_string(i), i + round);
    for (int i = 0; i < kSerials; i += 2) table.put("serial-" + std::to_string(i), 5000);
    ASSERT_EQ(table.size(), static_cast<size_t>(kSerials));
    auto entries = table.entries();
    ASSERT_EQ(entries.size(), static_cast<size_t>(kSerials));
    for (const auto& e : entries) {
      int i = std::stoi(e.serial.substr(7));
      EXPECT_EQ(e.at, i % 2 == 0 ? 5000 : i + round) << e.serial;
    }
    table.clear();
    EXPECT_TRUE(table.empty());
    EXPECT_TRUE(table.entries().empty());
  }
}

TEST(ActivityBuffer, CountsHandshakesPerMinuteOutcomeAndReason) {
  ActivityBuffer buffer;
  buffer.handshake(HandshakeReason::ok, 120);
  buffer.handshake(HandshakeReason::ok, 179);
  buffer.handshake(HandshakeReason::unknown_issuer, 150);
  buffer.handshake(HandshakeReason::revoked, 181);
  buffer.handshake(HandshakeReason::certificate_required, 181);
  buffer.handshake(HandshakeReason::ok, 61);  // an older minute, arriving late
  auto counts = buffer.handshake_counts();
  ASSERT_EQ(counts.size(), 5u) << describe(counts);
  EXPECT_EQ(describe(counts),
            "60 ok/ok 1; 120 ok/ok 2; 120 refused/unknown_issuer 1; "
            "180 refused/revoked 1; 180 refused/certificate_required 1; ");
  EXPECT_EQ(buffer.handshake_total(), 6u);
}

TEST(ActivityBuffer, MergeAddsCountsAndKeepsTheLatestPresentation) {
  ActivityBuffer a;
  ActivityBuffer b;
  a.handshake(HandshakeReason::ok, 60);
  a.presented("0a01", 60);
  b.handshake(HandshakeReason::ok, 70);
  b.handshake(HandshakeReason::expired, 130);
  b.presented("0a01", 70);
  b.presented("0a02", 65);
  a.merge(b);
  EXPECT_EQ(describe(a.handshake_counts()), "60 ok/ok 2; 120 refused/expired 1; ");
  auto presented = a.presentations();
  ASSERT_EQ(presented.size(), 2u);
  EXPECT_EQ(presented[0].serial, "0a01");
  EXPECT_EQ(presented[0].at, 70);
  EXPECT_EQ(presented[1].serial, "0a02");
}

TEST(ActivityBuffer, ClearsEachPartAlone) {
  ActivityBuffer buffer;
  buffer.handshake(HandshakeReason::ok, 60);
  buffer.presented("0a01", 60);
  buffer.clear_presentations();
  EXPECT_TRUE(buffer.presentations().empty());
  EXPECT_EQ(buffer.handshake_total(), 1u);
  EXPECT_FALSE(buffer.empty());
  buffer.clear_handshake_counts();
  EXPECT_TRUE(buffer.empty());
}

TEST(ActivityBuffer, DropsOnlyTheMinutesBeforeTheGivenOne) {
  ActivityBuffer buffer;
  buffer.handshake(HandshakeReason::ok, 0);
  buffer.handshake(HandshakeReason::ok, 10);
  buffer.handshake(HandshakeReason::revoked, 65);
  buffer.handshake(HandshakeReason::ok, 125);
  EXPECT_EQ(buffer.drop_counts_before(120), 3u);
  EXPECT_EQ(describe(buffer.handshake_counts()), "120 ok/ok 1; ");
}

TEST(ActivityBuffer, MinuteStartRoundsDown) {
  EXPECT_EQ(minute_start(0), 0);
  EXPECT_EQ(minute_start(59), 0);
  EXPECT_EQ(minute_start(60), 60);
  EXPECT_EQ(minute_start(1700000059), 1700000040);
  EXPECT_EQ(minute_start(1700000040), 1700000040);
  EXPECT_EQ(minute_start(-1), -60);
}

// A worker's event loop: a thread running an io_context, the only thread that touches its
// buffer while it runs.
class Loop {
 public:
  Loop() : thread_([this] { io_.run(); }) {}
  ~Loop() { stop(); }
  void stop() {
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  // Runs `f` on the loop and waits for it.
  template <class F>
  void run(F f) {
    std::promise<void> done;
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  ActivityWriter::Source source() {
    return {[this](std::function<void()> task) { asio::post(io_, std::move(task)); }, &buffer};
  }

  ActivityBuffer buffer;

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  std::thread thread_;
};

class ActivityWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-activity-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = open();
    ASSERT_TRUE(store_->create_tenant({"acme", "Acme", 1}, event()).ok());
    store::CertificateRecord c;
    c.serial = "0a01";
    c.tenant_id = "acme";
    c.connector_id = "edge-1";
    c.identity = "connector/acme/edge-1";
    c.subject = "CN=" + c.identity;
    c.key_type = "ecdsa-p256";
    c.fingerprint = "fp";
    c.pem = "pem";
    ASSERT_TRUE(store_->create_connector({"acme", "edge-1", 1}, c, event()).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<store::Store> open() {
    return std::move(store::open((dir_ / "tether.db").string(), {.create = true})).value();
  }
  static store::AuditEvent event() { return {1, "test", "setup", "", "", ""}; }

  std::vector<store::HandshakeCount> counts() {
    auto rows = store_->handshake_counts(0, int64_t{1} << 40);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? *rows : std::vector<store::HandshakeCount>{};
  }
  std::optional<int64_t> last_presented() {
    auto cert = store_->find_certificate_by_serial("0a01");
    EXPECT_TRUE(cert.ok() && cert->has_value());
    return cert.ok() && cert->has_value() ? (*cert)->last_presented_at : std::nullopt;
  }
  // Waits (bounded) until `done` holds.
  template <class F>
  bool eventually(F done, milliseconds limit = milliseconds(10000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
  }
  void rename_table(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "tether.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  obs::GatewayMetrics metrics_{std::vector<std::string>{}};
};

TEST_F(ActivityWriterTest, FlushesWhatEveryWorkerRecordedEachInterval) {
  Loop one;
  Loop two;
  ActivityWriter writer({one.source(), two.source()}, open(), milliseconds(20), metrics_);
  one.run([&] {
    one.buffer.handshake(HandshakeReason::ok, 1000);
    one.buffer.presented("0a01", 1000);
  });
  two.run([&] {
    two.buffer.handshake(HandshakeReason::ok, 1010);
    two.buffer.handshake(HandshakeReason::unknown_issuer, 1011);
    two.buffer.presented("0a01", 1010);
  });
  ASSERT_TRUE(eventually([&] { return counts().size() == 2 && last_presented() == 1010; }))
      << describe(counts());
  auto rows = counts();
  EXPECT_EQ(describe(rows), "960 ok/ok 2; 960 refused/unknown_issuer 1; ");
  // Taken from the workers: nothing is written twice.
  uint64_t seen = metrics_.activity_flushes();
  ASSERT_TRUE(eventually([&] { return metrics_.activity_flushes() >= seen + 2; }));
  EXPECT_EQ(describe(counts()), "960 ok/ok 2; 960 refused/unknown_issuer 1; ");
  one.run([&] { EXPECT_TRUE(one.buffer.empty()); });
  EXPECT_EQ(metrics_.activity_write_failures(), 0u);
}

TEST_F(ActivityWriterTest, StopWritesWhatTheStoppedWorkersStillHold) {
  Loop loop;
  // An interval no test waits for: only the last flush can write.
  ActivityWriter writer({loop.source()}, open(), milliseconds(60000), metrics_);
  loop.run([&] {
    loop.buffer.handshake(HandshakeReason::revoked, 2000);
    loop.buffer.presented("0a01", 2000);
  });
  writer.pause();
  loop.stop();
  writer.stop();
  EXPECT_EQ(describe(counts()), "1980 refused/revoked 1; ");
  EXPECT_EQ(last_presented(), 2000);
  EXPECT_EQ(metrics_.activity_flushes(), 1u);
}

TEST_F(ActivityWriterTest, RefusedWriteIsCountedAndKeptForTheNextFlush) {
  Loop loop;
  rename_table("ALTER TABLE handshake_counts RENAME TO hidden");
  ActivityWriter writer({loop.source()}, open(), milliseconds(20), metrics_);
  loop.run([&] {
    loop.buffer.handshake(HandshakeReason::ok, obs::unix_millis() / 1000);
    loop.buffer.presented("0a01", 3000);
  });
  ASSERT_TRUE(eventually([&] { return metrics_.activity_write_failures() >= 1; }));
  EXPECT_EQ(last_presented(), 3000) << "presentations are written on their own";
  rename_table("ALTER TABLE hidden RENAME TO handshake_counts");
  ASSERT_TRUE(eventually([&] { return counts().size() == 1; })) << describe(counts());
  EXPECT_EQ(counts()[0].reason, "ok");
  EXPECT_EQ(counts()[0].count, 1) << "kept once, written once";
}

}  // namespace
}  // namespace tether::gateway

// Two handles used at once from two threads (one handle per thread, the rule every adapter
// states): writers serialise, nothing is lost, and the feed still gives each revocation once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "store_contract.h"

namespace tether::store::contract {
namespace {

constexpr int kPerThread = 20;

TEST_P(StoreContract, TwoHandlesWritingAtOnceLoseNothing) {
  add_tenant("acme");
  auto first = open_handle();
  auto second = open_handle();
  ASSERT_TRUE(first && second);
  auto writer = [&](Store* store, std::string prefix, std::vector<Status>* results) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string id = prefix + std::to_string(i);
      std::string serial = "5e" + id;
      results->push_back(store->create_connector({"acme", id, 1}, certificate(serial, "acme", id),
                                                 event("connector.create", serial)));
      results->push_back(
          status_of(store->revoke("acme", id, std::nullopt, 1, 1500, event("certificate.revoke"))));
    }
  };
  std::vector<Status> first_results, second_results;
  std::thread a(writer, first.get(), "a", &first_results);
  std::thread b(writer, second.get(), "b", &second_results);
  a.join();
  b.join();
  for (const auto* results : {&first_results, &second_results}) {
    for (const auto& r : *results) EXPECT_TRUE(r.ok()) << r.error().message;
  }

  EXPECT_EQ(store_->list_connectors(std::string("acme"))->size(), 2u * kPerThread);
  // tenant.create, then a create and a revoke event per connector.
  EXPECT_EQ(audit_count(), 1u + 4u * kPerThread);
  auto feed = store_->revocations_after(0, 10 * kPerThread);
  ASSERT_TRUE(feed.ok()) << feed.error().message;
  ASSERT_EQ(feed->size(), 2u * kPerThread);
  std::set<std::string> distinct;
  int64_t cursor = 0;
  for (const auto& e : *feed) {
    EXPECT_GT(e.cursor, cursor);
    cursor = e.cursor;
    distinct.insert(e.serial);
  }
  EXPECT_EQ(distinct.size(), 2u * kPerThread) << "each revocation once";
}

TEST_P(StoreContract, ReaderFollowingTheFeedWhileAWriterRevokesSeesEachOnce) {
  add_tenant("acme");
  for (int i = 0; i < kPerThread; ++i) {
    add_connector("acme", "c" + std::to_string(i), "s" + std::to_string(i));
  }
  auto reader_store = open_handle();
  ASSERT_TRUE(reader_store);
  std::atomic<bool> writer_done{false};
  std::vector<std::string> seen;
  std::thread reader([&] {
    int64_t cursor = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      bool last_round = writer_done.load();
      auto entries = reader_store->revocations_after(cursor, 3);
      if (!entries.ok()) {
        ADD_FAILURE() << entries.error().message;
        return;
      }
      for (const auto& e : *entries) {
        cursor = e.cursor;
        seen.push_back(e.serial);
      }
      if (entries->empty()) {
        if (last_round) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // let the writer on
      }
    }
    ADD_FAILURE() << "the reader did not catch up within 30 s";
  });
  for (int i = 0; i < kPerThread; ++i) {
    Status s = status_of(store_->revoke("acme", "c" + std::to_string(i), std::nullopt, 1, 1500,
                                        event("certificate.revoke")));
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  writer_done = true;
  reader.join();
  std::vector<std::string> want;
  for (int i = 0; i < kPerThread; ++i) want.push_back("s" + std::to_string(i));
  EXPECT_EQ(seen, want) << "in commit order, each once";
}

}  // namespace
}  // namespace tether::store::contract

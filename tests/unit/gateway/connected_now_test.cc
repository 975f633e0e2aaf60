// Who is connected now, gathered from the workers' loops: per identity, the connection count and
// the serials presented; a loop that does not answer in time is counted, not waited for.
#include "gateway/connected_now.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

namespace tether::gateway {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// A worker's loop and the live connections only its thread touches.
class Loop {
 public:
  Loop() : thread_([this] { io_.run(); }) {}
  ~Loop() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  template <class F>
  void run(F f) {
    std::promise<void> done;
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  // Registers a connection (the identity string must outlive it, as a connection's does).
  void connect(const std::string& serial, const std::string& identity) {
    run([&] { handles_.push_back(live_.add(serial, identity, [] {})); });
  }
  void disconnect_first() {
    run([&] {
      live_.remove(handles_.front());
      handles_.erase(handles_.begin());
    });
  }
  LiveSource source() {
    return {[this](std::function<void()> task) { asio::post(io_, std::move(task)); }, &live_};
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  LiveConnections live_;
  std::vector<LiveConnections::Handle> handles_;
  std::thread thread_;
};

const std::string kEdge1 = "connector/acme/edge-1";
const std::string kEdge2 = "connector/acme/edge-2";
const std::string kBilling = "service/billing";

TEST(ConnectedNow, CountsEachIdentitysConnectionsAndSerialsAcrossWorkers) {
  Loop one;
  Loop two;
  one.connect("0a01", kEdge1);
  one.connect("0a01", kEdge1);
  two.connect("0a02", kEdge1);  // renewed: the new certificate beside the old one
  two.connect("0b01", kBilling);
  one.connect("0c01", kEdge2);
  ConnectedNow now = gather_connected_now({one.source(), two.source()}, milliseconds(5000));
  EXPECT_EQ(now.workers_unanswered, 0u);
  ASSERT_EQ(now.identities.size(), 3u);
  EXPECT_EQ(now.identities[0].identity, kEdge1);
  EXPECT_EQ(now.identities[0].connections, 3u);
  EXPECT_EQ(now.identities[0].serials, (std::vector<std::string>{"0a01", "0a02"}));
  EXPECT_EQ(now.identities[1].identity, kEdge2);
  EXPECT_EQ(now.identities[1].connections, 1u);
  EXPECT_EQ(now.identities[2].identity, kBilling);
  EXPECT_EQ(now.identities[2].serials, (std::vector<std::string>{"0b01"}));

  // Both of edge-1's connections with 0a01 close: only the renewed certificate is left.
  one.disconnect_first();
  one.disconnect_first();
  now = gather_connected_now({one.source(), two.source()}, milliseconds(5000));
  ASSERT_EQ(now.identities.size(), 3u);
  EXPECT_EQ(now.identities[0].identity, kEdge1);
  EXPECT_EQ(now.identities[0].connections, 1u);
  EXPECT_EQ(now.identities[0].serials, (std::vector<std::string>{"0a02"}));
  EXPECT_EQ(now.identities[1].identity, kEdge2);
  EXPECT_EQ(now.identities[2].identity, kBilling);
}

TEST(ConnectedNow, NobodyConnectedIsEmpty) {
  Loop one;
  ConnectedNow now = gather_connected_now({one.source()}, milliseconds(5000));
  EXPECT_TRUE(now.identities.empty());
  EXPECT_EQ(now.workers_unanswered, 0u);
}

TEST(ConnectedNow, AStalledWorkerIsCountedAndItsLateAnswerIgnored) {
  Loop answering;
  Loop stalled;
  answering.connect("0a01", kEdge1);
  stalled.connect("0b01", kBilling);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::post(stalled.io(), [released] { released.wait(); });  // the loop is busy elsewhere

  auto began = std::chrono::steady_clock::now();
  ConnectedNow now =
      gather_connected_now({answering.source(), stalled.source()}, milliseconds(100));
  EXPECT_LT(std::chrono::steady_clock::now() - began, milliseconds(5000)) << "not bounded";
  EXPECT_EQ(now.workers_unanswered, 1u);
  ASSERT_EQ(now.identities.size(), 1u);
  EXPECT_EQ(now.identities[0].identity, kEdge1);

  release.set_value();
  // The late task runs now and must find nobody waiting; the next call sees both loops.
  now = gather_connected_now({answering.source(), stalled.source()}, milliseconds(5000));
  EXPECT_EQ(now.workers_unanswered, 0u);
  EXPECT_EQ(now.identities.size(), 2u);
}

}  // namespace
}  // namespace tether::gateway

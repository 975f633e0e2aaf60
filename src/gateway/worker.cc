#include "gateway/worker.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cerrno>
#include <cstring>

#include "gateway/connection.h"
#include "obs/log_sink.h"

namespace tether::gateway {

Worker::Worker(size_t index, SharedState& shared) : index_(index), shared_(shared) {}

Worker::~Worker() {
  stop();
}

Status Worker::adopt_listener(tcp::acceptor& listening, uint16_t port) {
  int fd = ::dup(listening.native_handle());
  if (fd < 0) {
    return make_error(Errc::io_error, "cannot share the listening socket of port " +
                                          std::to_string(port) + " with worker " +
                                          std::to_string(index_) + ": " + std::strerror(errno));
  }
  auto acceptor = std::make_unique<tcp::acceptor>(io_);
  error_code ec;
  acceptor->assign(listening.local_endpoint().protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    return make_error(Errc::io_error, "cannot share the listening socket of port " +
                                          std::to_string(port) + ": " + ec.message());
  }
  acceptors_.push_back(std::move(acceptor));
  ports_.push_back(port);
  return ok_status();
}

void Worker::start() {
  for (size_t i = 0; i < acceptors_.size(); ++i) {
    asio::co_spawn(io_, accept_loop(*acceptors_[i], ports_[i]), asio::detached);
  }
  asio::co_spawn(io_,
                 every(kLogFlushInterval,
                       [this] {
                         if (log_buffer_ != nullptr) log_buffer_->flush();
                       }),
                 asio::detached);
  asio::co_spawn(io_, every(kPoolSweepInterval, [this] { pool_.sweep(); }), asio::detached);
  thread_ = std::thread([this] {
    obs::LogBuffer buffer;
    log_buffer_ = &buffer;
    io_.run();
    log_buffer_ = nullptr;
  });
}

asio::awaitable<void> Worker::every(std::chrono::steady_clock::duration interval,
                                    std::function<void()> task) {
  asio::steady_timer timer(io_);
  for (;;) {
    timer.expires_after(interval);
    error_code ec;
    co_await timer.async_wait(ec_token(ec));
    if (ec) co_return;
    task();
  }
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void Worker::post_snapshot(std::shared_ptr<const Snapshot> snapshot) {
  asio::post(io_,
             [this, snapshot = std::move(snapshot)]() mutable { snapshot_ = std::move(snapshot); });
}

void Worker::post_close_serials(std::vector<std::string> serials) {
  asio::post(io_, [this, serials = std::move(serials)] {
    size_t closed = live_.close_serials(serials);
    if (closed == 0) return;
    boost::json::array list;
    for (const auto& s : serials) list.emplace_back(s);
    obs::log_event("connections_closed", {{"reason", "revoked"},
                                          {"count", closed},
                                          {"serials", std::move(list)},
                                          {"worker", index_}});
  });
}

void Worker::record_handshake(const tls::HandshakeOutcome& outcome) {
  if (!shared_.record_activity) return;
  int64_t now = obs::unix_millis() / 1000;
  activity_.handshake(outcome.reason, now);
  if (outcome.ok() && !outcome.serial_hex.empty()) activity_.presented(outcome.serial_hex, now);
}

asio::awaitable<void> Worker::accept_loop(tcp::acceptor& acceptor, uint16_t port) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(ec_token(ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE and friends: say so, and back off briefly instead of spinning.
      obs::log_event("accept_failed", {{"port", port}, {"error", ec.message()}});
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(ec_token(ec));
      continue;
    }
    asio::co_spawn(io_, serve_client(*this, std::move(socket), port), asio::detached);
  }
}

}  // namespace tether::gateway

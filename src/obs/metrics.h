// Gateway metrics: declared in one list, lock-free to update, rendered as Prometheus text.
//
// Everything a request or handshake touches is a preallocated atomic; label sets (handshake
// reasons, request failures and connection refusals from the failure table, routes x status
// classes from the config) are fixed when the metrics object is built, so the hot path never
// allocates or locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/handshake_reason.h"

namespace tether::obs {

// Request duration buckets in seconds (upper bounds; +Inf implied).
inline constexpr std::array<double, 12> kDurationBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

class Histogram {
 public:
  void observe(double seconds);
  // Cumulative counts per bucket (Prometheus "le" semantics), then +Inf.
  std::array<uint64_t, kDurationBuckets.size() + 1> cumulative() const;
  double sum() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kDurationBuckets.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

// Status classes counted per route: 1xx..5xx.
inline constexpr int kStatusClasses = 5;

// The TLS session cache's figures (tls::SessionCacheStats, copied by the gateway).
struct SessionCacheGauges {
  size_t bytes = 0;
  size_t sessions = 0;
  size_t limit_bytes = 0;
  uint64_t evictions = 0;
};

// Values that are read, not counted: taken when /metrics is rendered.
struct GaugeSnapshot {
  size_t revoked_serials_loaded = 0;
  double seconds_since_revocation_sync = -1;  // -1: never synced
  bool revocation_feed_ok = true;
  int64_t server_certificate_not_after = 0;  // unix seconds
  SessionCacheGauges session_cache;
};

// The counters of one route. Lives as long as the GatewayMetrics that made it.
class RouteMetrics {
 public:
  explicit RouteMetrics(std::string name) : name_(std::move(name)) {}

  // Lock-free; a status outside 100..599 counts nowhere.
  void request(int status, double seconds);
  uint64_t requests(int status_class) const;

  const std::string& name() const { return name_; }
  const Histogram& duration() const { return duration_; }

 private:
  std::string name_;
  std::array<std::atomic<uint64_t>, kStatusClasses> by_class_{};
  Histogram duration_;
};

class GatewayMetrics {
 public:
  explicit GatewayMetrics(const std::vector<std::string>& route_names);

  void handshake(HandshakeReason reason);
  // A request the gateway answered (or closed) itself for `code`, one of kRequestFailures.
  void request_failed(Errc code);
  // A connection closed before TLS for `code`, one of kConnectionRefusals.
  void connection_refused(Errc code);
  void connection_opened() { active_connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { active_connections_.fetch_sub(1, std::memory_order_relaxed); }

  // The counters of the route called `name`, made on first use. Called when a route table is
  // built (startup, reload), never per request: a route keeps its counters across reloads, and
  // a route added by a reload gets its own.
  RouteMetrics& route(std::string_view name);

  uint64_t handshakes(HandshakeReason reason) const;
  uint64_t request_failures(Errc code) const;
  uint64_t connections_refused(Errc code) const;
  int64_t active_connections() const { return active_connections_.load(std::memory_order_relaxed); }

  std::string render_prometheus(const GaugeSnapshot& gauges) const;

  // The gateway's activity writer (presentations and handshake counts written to the store off
  // the handshake path): each flush, and each write the store refused.
  void activity_flushed() { activity_flushes_.fetch_add(1, std::memory_order_relaxed); }
  void activity_write_failed() { activity_write_failures_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t activity_flushes() const { return activity_flushes_.load(std::memory_order_relaxed); }
  uint64_t activity_write_failures() const {
    return activity_write_failures_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> activity_flushes_{0};
  std::atomic<uint64_t> activity_write_failures_{0};

  // Indexed by the enums' values, which the failure table numbers from 0 without gaps.
  std::array<std::atomic<uint64_t>, kHandshakeReasons.size()> handshakes_{};
  // Request failures and connection refusals (disjoint groups of codes); only the codes of
  // kRequestFailures and kConnectionRefusals are rendered.
  std::array<std::atomic<uint64_t>, kErrcCount> failures_{};
  std::atomic<int64_t> active_connections_{0};
  // A deque never moves its elements, so references handed out stay valid as routes are added.
  mutable std::mutex routes_mutex_;  // guards adding and listing, not the counters
  std::deque<RouteMetrics> routes_;
};

}  // namespace tether::obs

// Gateway metrics: declared in one list, lock-free to update, rendered as Prometheus text.
//
// Everything a request or handshake touches is a preallocated atomic; label sets (handshake
// reasons, routes x status classes) are fixed when the metrics object is built from the config,
// so the hot path never allocates or locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tls/alerts.h"

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

// Every handshake reason the gateway can count, in HandshakeReason order.
inline constexpr std::array<tls::HandshakeReason, 13> kHandshakeReasons = {
    tls::HandshakeReason::ok,
    tls::HandshakeReason::certificate_required,
    tls::HandshakeReason::protocol_version,
    tls::HandshakeReason::unknown_issuer,
    tls::HandshakeReason::expired,
    tls::HandshakeReason::not_yet_valid,
    tls::HandshakeReason::revoked,
    tls::HandshakeReason::bad_purpose,
    tls::HandshakeReason::not_a_ca,
    tls::HandshakeReason::path_too_long,
    tls::HandshakeReason::bad_signature,
    tls::HandshakeReason::bad_certificate,
    tls::HandshakeReason::handshake_failure,
};

// Status classes counted per route: 1xx..5xx.
inline constexpr int kStatusClasses = 5;

// Values that are read, not counted: taken when /metrics is rendered.
struct GaugeSnapshot {
  size_t revoked_serials_loaded = 0;
  double seconds_since_revocation_sync = -1;  // -1: never synced
  bool revocation_feed_ok = true;
  int64_t server_certificate_not_after = 0;  // unix seconds
};

class GatewayMetrics {
 public:
  explicit GatewayMetrics(std::vector<std::string> route_names);

  void handshake(tls::HandshakeReason reason);
  void connection_opened() { active_connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { active_connections_.fetch_sub(1, std::memory_order_relaxed); }
  // `route_index` into the names given at construction; an unknown index counts nowhere.
  void request(size_t route_index, int status, double seconds);

  uint64_t handshakes(tls::HandshakeReason reason) const;
  uint64_t requests(size_t route_index, int status_class) const;
  int64_t active_connections() const { return active_connections_.load(std::memory_order_relaxed); }

  std::string render_prometheus(const GaugeSnapshot& gauges) const;

 private:
  struct RouteMetrics {
    std::string name;
    std::array<std::atomic<uint64_t>, kStatusClasses> by_class{};
    Histogram duration;
  };

  std::array<std::atomic<uint64_t>, kHandshakeReasons.size()> handshakes_{};
  std::atomic<int64_t> active_connections_{0};
  std::vector<std::unique_ptr<RouteMetrics>> routes_;
};

}  // namespace tether::obs

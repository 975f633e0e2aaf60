#include "obs/metrics.h"

#include <cmath>
#include <sstream>

namespace tether::obs {

namespace {

size_t index(HandshakeReason reason) {
  return static_cast<size_t>(reason);
}
size_t index(Errc code) {
  return static_cast<size_t>(code);
}

// Prometheus label values escape backslash, quote and newline (exposition format).
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < kDurationBuckets.size() && seconds > kDurationBuckets[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double micros = seconds > 0 ? std::llround(seconds * 1e6) : 0;
  sum_micros_.fetch_add(static_cast<uint64_t>(micros), std::memory_order_relaxed);
}

std::array<uint64_t, kDurationBuckets.size() + 1> Histogram::cumulative() const {
  std::array<uint64_t, kDurationBuckets.size() + 1> out{};
  uint64_t running = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

double Histogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

void RouteMetrics::request(int status, double seconds) {
  int status_class = status / 100;
  if (status < 100 || status_class > kStatusClasses) return;
  by_class_[static_cast<size_t>(status_class - 1)].fetch_add(1, std::memory_order_relaxed);
  duration_.observe(seconds);
}

uint64_t RouteMetrics::requests(int status_class) const {
  if (status_class < 1 || status_class > kStatusClasses) return 0;
  return by_class_[static_cast<size_t>(status_class - 1)].load(std::memory_order_relaxed);
}

GatewayMetrics::GatewayMetrics(const std::vector<std::string>& route_names) {
  for (const auto& name : route_names) route(name);
}

RouteMetrics& GatewayMetrics::route(std::string_view name) {
  std::lock_guard lock(routes_mutex_);
  for (auto& r : routes_) {
    if (r.name() == name) return r;
  }
  return routes_.emplace_back(std::string(name));
}

void GatewayMetrics::handshake(HandshakeReason reason) {
  handshakes_[index(reason)].fetch_add(1, std::memory_order_relaxed);
}

void GatewayMetrics::request_failed(Errc code) {
  failures_[index(code)].fetch_add(1, std::memory_order_relaxed);
}

void GatewayMetrics::connection_refused(Errc code) {
  failures_[index(code)].fetch_add(1, std::memory_order_relaxed);
}

uint64_t GatewayMetrics::handshakes(HandshakeReason reason) const {
  return handshakes_[index(reason)].load(std::memory_order_relaxed);
}

uint64_t GatewayMetrics::request_failures(Errc code) const {
  return failures_[index(code)].load(std::memory_order_relaxed);
}

uint64_t GatewayMetrics::connections_refused(Errc code) const {
  return failures_[index(code)].load(std::memory_order_relaxed);
}

std::string GatewayMetrics::render_prometheus(const GaugeSnapshot& gauges) const {
  std::ostringstream out;
  std::lock_guard lock(routes_mutex_);
  header(out, "tether_handshakes_total", "counter",
         "TLS handshakes by result and reason (reason=ok for accepted ones).");
  for (HandshakeReason reason : kHandshakeReasons) {
    out << "tether_handshakes_total{result=\""
        << (reason == HandshakeReason::ok ? "accepted" : "rejected") << "\",reason=\""
        << reason_token(reason) << "\",alert=\""
        << (alert_name(reason).empty() ? "none" : alert_name(reason)) << "\"} "
        << handshakes(reason) << '\n';
  }
  header(out, "tether_request_errors_total", "counter",
         "Requests the gateway answered (or closed) itself instead of proxying, by reason.");
  for (Errc code : kRequestFailures) {
    out << "tether_request_errors_total{reason=\"" << errc_reason(code) << "\",status=\""
        << http_status(code) << "\"} " << request_failures(code) << '\n';
  }
  header(out, "tether_connections_refused_total", "counter",
         "Connections closed before TLS, by reason.");
  for (Errc code : kConnectionRefusals) {
    out << "tether_connections_refused_total{reason=\"" << errc_reason(code) << "\"} "
        << connections_refused(code) << '\n';
  }
  header(out, "tether_active_connections", "gauge", "Client connections open now.");
  out << "tether_active_connections " << active_connections() << '\n';

  header(out, "tether_requests_total", "counter", "Requests by route and status class.");
  for (const auto& route : routes_) {
    for (int c = 1; c <= kStatusClasses; ++c) {
      out << "tether_requests_total{route=\"" << label_value(route.name()) << "\",status=\"" << c
          << "xx\"} " << route.requests(c) << '\n';
    }
  }
  header(out, "tether_request_duration_seconds", "histogram",
         "Time from request headers read to response written, by route.");
  for (const auto& route : routes_) {
    auto cumulative = route.duration().cumulative();
    std::string label = "route=\"" + label_value(route.name()) + "\"";
    for (size_t i = 0; i < kDurationBuckets.size(); ++i) {
      out << "tether_request_duration_seconds_bucket{" << label << ",le=\"" << kDurationBuckets[i]
          << "\"} " << cumulative[i] << '\n';
    }
    out << "tether_request_duration_seconds_bucket{" << label << ",le=\"+Inf\"} "
        << cumulative.back() << '\n';
    out << "tether_request_duration_seconds_sum{" << label << "} " << route.duration().sum()
        << '\n';
    out << "tether_request_duration_seconds_count{" << label << "} " << route.duration().count()
        << '\n';
  }

  header(out, "tether_revoked_serials_loaded", "gauge", "Revoked serials in the gateway's set.");
  out << "tether_revoked_serials_loaded " << gauges.revoked_serials_loaded << '\n';
  header(out, "tether_revocation_feed_up", "gauge",
         "1 while the store answers the revocation feed; 0 while the last known set is used.");
  out << "tether_revocation_feed_up " << (gauges.revocation_feed_ok ? 1 : 0) << '\n';
  header(out, "tether_revocation_sync_age_seconds", "gauge",
         "Seconds since the revocation feed last synced (-1: never).");
  out << "tether_revocation_sync_age_seconds " << gauges.seconds_since_revocation_sync << '\n';
  header(out, "tether_server_certificate_expiry_timestamp_seconds", "gauge",
         "notAfter of the server certificate, Unix time.");
  out << "tether_server_certificate_expiry_timestamp_seconds "
      << gauges.server_certificate_not_after << '\n';

  const SessionCacheGauges& sessions = gauges.session_cache;
  header(
      out, "tether_tls_session_cache_bytes", "gauge",
      "Bytes the TLS session cache holds (encoded sessions, ids, server names, per-entry cost).");
  out << "tether_tls_session_cache_bytes " << sessions.bytes << '\n';
  header(out, "tether_tls_session_cache_sessions", "gauge", "TLS sessions held for resumption.");
  out << "tether_tls_session_cache_sessions " << sessions.sessions << '\n';
  header(out, "tether_tls_session_cache_limit_bytes", "gauge",
         "The TLS session cache's limit (tls.session_cache_size); 0: no cache.");
  out << "tether_tls_session_cache_limit_bytes " << sessions.limit_bytes << '\n';
  header(out, "tether_tls_session_cache_evictions_total", "counter",
         "TLS sessions dropped, oldest first, to keep the cache within its limit.");
  out << "tether_tls_session_cache_evictions_total " << sessions.evictions << '\n';

  header(out, "tether_activity_flushes_total", "counter",
         "Flushes of the handshakes' presentations and counts to the store, whatever their "
         "outcome.");
  out << "tether_activity_flushes_total " << activity_flushes() << '\n';
  header(out, "tether_activity_write_failures_total", "counter",
         "Batches of presentations or handshake counts the store refused (kept for the next "
         "flush).");
  out << "tether_activity_write_failures_total " << activity_write_failures() << '\n';
  return out.str();
}

}  // namespace tether::obs

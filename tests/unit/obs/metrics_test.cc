#include "obs/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace tether::obs {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(GatewayMetrics, HandshakesAreCountedByReasonWithTheirAlert) {
  GatewayMetrics m({"acme-api"});
  m.handshake(HandshakeReason::ok);
  m.handshake(HandshakeReason::revoked);
  m.handshake(HandshakeReason::revoked);
  EXPECT_EQ(m.handshakes(HandshakeReason::revoked), 2u);
  std::string text = m.render_prometheus({});
  EXPECT_TRUE(
      has_line(text, R"(tether_handshakes_total{result="accepted",reason="ok",alert="none"} 1)"))
      << text;
  EXPECT_TRUE(has_line(
      text,
      R"(tether_handshakes_total{result="rejected",reason="revoked",alert="certificate_revoked"} 2)"))
      << text;
}

TEST(GatewayMetrics, EveryHandshakeReasonOfTheTableIsRenderedFromTheStart) {
  std::string text = GatewayMetrics({}).render_prometheus({});
  for (HandshakeReason reason : kHandshakeReasons) {
    EXPECT_NE(text.find("reason=\"" + std::string(reason_token(reason)) + "\""), std::string::npos)
        << reason_token(reason);
  }
  EXPECT_TRUE(has_line(
      text,
      R"(tether_handshakes_total{result="rejected",reason="certificate_required",alert="certificate_required"} 0)"))
      << text;
}

TEST(GatewayMetrics, RequestFailuresAreCountedByReasonWithTheirStatus) {
  GatewayMetrics m({});
  m.request_failed(Errc::forbidden);
  m.request_failed(Errc::forbidden);
  m.request_failed(Errc::upstream_timeout);
  EXPECT_EQ(m.request_failures(Errc::forbidden), 2u);
  std::string text = m.render_prometheus({});
  EXPECT_TRUE(has_line(text, R"(tether_request_errors_total{reason="forbidden",status="403"} 2)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(tether_request_errors_total{reason="upstream_timeout",status="504"} 1)"))
      << text;
  // Every request failure of the table has its series, counted or not.
  EXPECT_TRUE(has_line(text, R"(tether_request_errors_total{reason="no_route",status="404"} 0)"))
      << text;
  // Failures of other groups are not request errors.
  EXPECT_EQ(text.find("tether_request_errors_total{reason=\"io_error\""), std::string::npos);
}

TEST(GatewayMetrics, ConnectionRefusalsAreCountedByReason) {
  GatewayMetrics m({});
  m.connection_refused(Errc::max_connections_per_source);
  EXPECT_EQ(m.connections_refused(Errc::max_connections_per_source), 1u);
  std::string text = m.render_prometheus({});
  EXPECT_TRUE(
      has_line(text, R"(tether_connections_refused_total{reason="max_connections_per_source"} 1)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(tether_connections_refused_total{reason="proxy_protocol_untrusted"} 0)"))
      << text;
}

TEST(GatewayMetrics, RequestsByRouteAndStatusClassWithDurationHistogram) {
  GatewayMetrics m({"acme-api", "globex-ws"});
  RouteMetrics& acme = m.route("acme-api");
  RouteMetrics& globex = m.route("globex-ws");
  acme.request(200, 0.0007);
  acme.request(403, 0.002);
  globex.request(502, 2.0);
  acme.request(99, 0.1);  // not an HTTP status: counted nowhere
  EXPECT_EQ(acme.requests(2), 1u);
  EXPECT_EQ(acme.requests(4), 1u);
  EXPECT_EQ(globex.requests(5), 1u);
  std::string text = m.render_prometheus({});
  EXPECT_TRUE(has_line(text, R"(tether_requests_total{route="acme-api",status="4xx"} 1)")) << text;
  EXPECT_TRUE(
      has_line(text, R"(tether_request_duration_seconds_bucket{route="acme-api",le="0.001"} 1)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(tether_request_duration_seconds_bucket{route="acme-api",le="0.0025"} 2)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(tether_request_duration_seconds_bucket{route="globex-ws",le="1"} 0)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(tether_request_duration_seconds_bucket{route="globex-ws",le="+Inf"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(tether_request_duration_seconds_count{route="acme-api"} 2)"))
      << text;
}

TEST(GatewayMetrics, ARouteKeepsItsCountersAndNewRoutesGetTheirOwn) {
  GatewayMetrics m({"a"});
  m.route("a").request(200, 0.001);
  RouteMetrics& added = m.route("b");  // as a reload that adds route "b" does
  added.request(500, 0.001);
  EXPECT_EQ(&m.route("a"), &m.route("a"));
  EXPECT_EQ(m.route("a").requests(2), 1u);
  std::string text = m.render_prometheus({});
  EXPECT_TRUE(has_line(text, R"(tether_requests_total{route="b",status="5xx"} 1)")) << text;
}

TEST(GatewayMetrics, GaugesComeFromTheSnapshot) {
  GatewayMetrics m({});
  m.connection_opened();
  m.connection_opened();
  m.connection_closed();
  GaugeSnapshot g;
  g.revoked_serials_loaded = 3;
  g.revocation_feed_ok = false;
  g.seconds_since_revocation_sync = 12.5;
  g.server_certificate_not_after = 1800000000;
  g.session_cache = {.bytes = 65000, .sessions = 52, .limit_bytes = 65536, .evictions = 148};
  std::string text = m.render_prometheus(g);
  EXPECT_TRUE(has_line(text, "tether_active_connections 1")) << text;
  EXPECT_TRUE(has_line(text, "tether_revoked_serials_loaded 3")) << text;
  EXPECT_TRUE(has_line(text, "tether_revocation_feed_up 0")) << text;
  EXPECT_TRUE(has_line(text, "tether_revocation_sync_age_seconds 12.5")) << text;
  EXPECT_TRUE(has_line(text, "tether_server_certificate_expiry_timestamp_seconds 1800000000"))
      << text;
  EXPECT_TRUE(has_line(text, "tether_tls_session_cache_bytes 65000")) << text;
  EXPECT_TRUE(has_line(text, "tether_tls_session_cache_sessions 52")) << text;
  EXPECT_TRUE(has_line(text, "tether_tls_session_cache_limit_bytes 65536")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE tether_tls_session_cache_evictions_total counter")) << text;
  EXPECT_TRUE(has_line(text, "tether_tls_session_cache_evictions_total 148")) << text;
}

TEST(GatewayMetrics, ConcurrentUpdatesAreNotLost) {
  GatewayMetrics m({"r"});
  constexpr int kPerThread = 20000;
  auto work = [&] {
    for (int i = 0; i < kPerThread; ++i) {
      m.handshake(HandshakeReason::ok);
      m.route("r").request(200, 0.001);
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(m.handshakes(HandshakeReason::ok), 2u * kPerThread);
  EXPECT_EQ(m.route("r").requests(2), 2u * kPerThread);
}

}  // namespace
}  // namespace tether::obs

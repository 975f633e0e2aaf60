#include "obs/access_log.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace tether::obs {
namespace {

TEST(AccessLog, RejectedHandshakeLineCarriesReasonAlertAndDetail) {
  HandshakeLogEntry e;
  e.time_ms = 1801396800250;  // 2027-01-31T12:00:00.250Z
  e.peer = "127.0.0.1:53412";
  e.sni = "acme.example.com";
  e.reason = HandshakeReason::expired;
  e.alert_sent = 45;  // certificate_expired, as recorded when OpenSSL wrote it
  e.detail = "certificate at depth 0 (CN=connector/acme/edge-1): certificate has expired";
  e.serial = "3f82";
  e.tls_version = "TLSv1.3";
  e.duration_ms = 1.5;
  std::string line = handshake_log_line(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto doc = boost::json::parse(line).as_object();
  EXPECT_EQ(doc.at("time").as_string(), "2027-01-31T12:00:00.250Z");
  EXPECT_EQ(doc.at("event").as_string(), "handshake");
  EXPECT_EQ(doc.at("outcome").as_string(), "rejected");
  EXPECT_EQ(doc.at("reason").as_string(), "expired");
  EXPECT_EQ(doc.at("alert").as_string(), "certificate_expired");
  EXPECT_EQ(doc.at("detail").as_string(), e.detail);
  EXPECT_EQ(doc.at("serial").as_string(), "3f82");
}

TEST(AccessLog, AlertIsTheOneSentNotTheOneTheReasonWouldGet) {
  HandshakeLogEntry e;
  e.reason = HandshakeReason::handshake_failure;
  e.alert_sent = -1;  // the client went away: nothing was sent
  auto none = boost::json::parse(handshake_log_line(e)).as_object();
  EXPECT_EQ(none.at("alert").as_string(), "");
  e.reason = HandshakeReason::bad_certificate;
  e.alert_sent = 48;  // unknown_ca, what OpenSSL wrote
  auto sent = boost::json::parse(handshake_log_line(e)).as_object();
  EXPECT_EQ(sent.at("alert").as_string(), "unknown_ca");
}

TEST(AccessLog, HostileValuesCannotForgeALine) {
  RequestLogEntry e;
  e.path = "/x\n{\"event\":\"request\",\"status\":200}";
  e.method = "GET";
  e.status = 403;
  std::string line = request_log_line(e);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  auto doc = boost::json::parse(line).as_object();
  EXPECT_EQ(doc.at("path").as_string(), e.path);
  EXPECT_EQ(doc.at("status").as_int64(), 403);
}

TEST(AccessLog, BytesThatAreNotUtf8StayValidJson) {
  RequestLogEntry e;
  e.path = "/caf\xc3\xa9/\xff\xfe/\xed\xa0\x80/\x7f";
  e.method = "GET";
  std::string line = request_log_line(e);
  auto doc = boost::json::parse(line).as_object();  // throws on invalid JSON or UTF-8
  // Valid UTF-8 passes; each invalid byte is escaped as the code point of its value.
  EXPECT_EQ(doc.at("path").as_string(),
            "/caf\xc3\xa9/\xc3\xbf\xc3\xbe/\xc3\xad\xc2\xa0\xc2\x80/\x7f");
  EXPECT_NE(line.find(R"(\u00ff)"), std::string::npos) << line;
}

TEST(AccessLog, NumbersAndBooleansAreJsonValues) {
  HandshakeLogEntry e;
  e.time_ms = 1800000000123;
  e.reason = HandshakeReason::ok;
  e.resumed = true;
  e.duration_ms = 2.5;
  auto doc = boost::json::parse(handshake_log_line(e)).as_object();
  EXPECT_EQ(doc.at("resumed").as_bool(), true);
  EXPECT_EQ(doc.at("duration_ms").as_double(), 2.5);
  EXPECT_EQ(doc.at("time").as_string(), "2027-01-15T08:00:00.123Z");
  EXPECT_EQ(doc.at("outcome").as_string(), "accepted");
}

}  // namespace
}  // namespace tether::obs

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
  e.reason = tls::HandshakeReason::expired;
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

}  // namespace
}  // namespace tether::obs

#include "tls/alerts.h"

#include <gtest/gtest.h>

namespace tether::tls {
namespace {

TEST(Alerts, EachReasonHasItsAlert) {
  struct Case {
    HandshakeReason reason;
    std::string_view token, alert;
    int number;
  };
  // RFC 8446 6.2 AlertDescription values.
  const Case cases[] = {
      {HandshakeReason::certificate_required, "certificate_required", "certificate_required", 116},
      {HandshakeReason::protocol_version, "protocol_version", "protocol_version", 70},
      {HandshakeReason::unknown_issuer, "unknown_issuer", "unknown_ca", 48},
      {HandshakeReason::expired, "expired", "certificate_expired", 45},
      {HandshakeReason::revoked, "revoked", "certificate_revoked", 44},
      {HandshakeReason::bad_purpose, "bad_purpose", "unsupported_certificate", 43},
      {HandshakeReason::bad_certificate, "bad_certificate", "bad_certificate", 42},
      {HandshakeReason::handshake_failure, "handshake_failure", "handshake_failure", 40},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(reason_token(c.reason), c.token);
    EXPECT_EQ(alert_name(c.reason), c.alert) << c.token;
    EXPECT_EQ(alert_info(c.reason).alert_number, c.number) << c.token;
    EXPECT_EQ(alert_name_for_number(c.number), c.alert) << c.token;
  }
  EXPECT_EQ(alert_name(HandshakeReason::ok), "");
}

TEST(Alerts, VerifyReasonsMapToHandshakeReasons) {
  EXPECT_EQ(reason_from_errc(Errc::expired), HandshakeReason::expired);
  EXPECT_EQ(reason_from_errc(Errc::unknown_issuer), HandshakeReason::unknown_issuer);
  EXPECT_EQ(reason_from_errc(Errc::revoked), HandshakeReason::revoked);
  EXPECT_EQ(reason_from_errc(Errc::bad_purpose), HandshakeReason::bad_purpose);
  EXPECT_EQ(reason_from_errc(Errc::name_mismatch), HandshakeReason::bad_certificate);
}

}  // namespace
}  // namespace tether::tls

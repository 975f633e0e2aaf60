// The failure table's generated mappings (common/failures.def): tokens, HTTP statuses, handshake
// reasons and alerts.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/handshake_reason.h"
#include "common/tls_alert.h"

namespace tether {
namespace {

TEST(FailureTable, EveryTokenNamesItsCodeAndBack) {
  for (size_t i = 0; i < kErrcCount; ++i) {
    auto code = static_cast<Errc>(i);
    std::string_view token = errc_reason(code);
    EXPECT_NE(token, "unknown") << i;
    EXPECT_EQ(errc_from_reason(token), code) << token;
  }
  EXPECT_EQ(errc_from_reason("no_such_failure"), std::nullopt);
  EXPECT_EQ(errc_reason(static_cast<Errc>(kErrcCount)), "unknown");
}

TEST(FailureTable, TokensSeenOutsideStayAsTheyWere) {
  // CLI output, logs and JSON bodies show these; scripts and tests match them.
  EXPECT_EQ(errc_reason(Errc::ok), "ok");
  EXPECT_EQ(errc_reason(Errc::store_schema_too_new), "store_schema_too_new");
  EXPECT_EQ(errc_reason(Errc::name_constraint_violation), "name_constraint_violation");
  EXPECT_EQ(errc_reason(Errc::verify_failed), "verify_failed");
  EXPECT_EQ(make_error_code(Errc::wrong_passphrase).message(), "wrong_passphrase");
}

TEST(FailureTable, GatewayAnswersKeepTheirStatusAndToken) {
  struct Case {
    Errc code;
    std::string_view token;
    int status;
  };
  const Case cases[] = {
      {Errc::bad_request, "bad_request", 400},
      {Errc::forbidden, "forbidden", 403},
      {Errc::no_route, "no_route", 404},
      {Errc::request_timeout, "request_timeout", 408},
      {Errc::body_too_large, "body_too_large", 413},
      {Errc::misdirected_request, "misdirected_request", 421},
      {Errc::headers_too_large, "headers_too_large", 431},
      {Errc::not_implemented, "not_implemented", 501},
      {Errc::bad_gateway, "bad_gateway", 502},
      {Errc::upstream_timeout, "upstream_timeout", 504},
  };
  ASSERT_EQ(kRequestFailures.size(), std::size(cases));
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(kRequestFailures[i], cases[i].code) << cases[i].token;
    EXPECT_EQ(errc_reason(cases[i].code), cases[i].token);
    EXPECT_EQ(http_status(cases[i].code), cases[i].status) << cases[i].token;
    EXPECT_EQ(handshake_reason(cases[i].code), std::nullopt) << cases[i].token;
    EXPECT_EQ(tls_alert(cases[i].code), std::nullopt) << cases[i].token;
  }
}

TEST(FailureTable, ConnectionRefusalsAreTheGatewaysPreTlsReasons) {
  const Errc expected[] = {Errc::max_connections, Errc::max_connections_per_source,
                           Errc::proxy_protocol_untrusted, Errc::proxy_protocol_invalid,
                           Errc::handshake_timeout};
  ASSERT_EQ(kConnectionRefusals.size(), std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i) EXPECT_EQ(kConnectionRefusals[i], expected[i]);
  EXPECT_EQ(errc_reason(Errc::max_connections_per_source), "max_connections_per_source");
}

TEST(FailureTable, EachHandshakeReasonHasItsAlert) {
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
      {HandshakeReason::not_yet_valid, "not_yet_valid", "bad_certificate", 42},
      {HandshakeReason::revoked, "revoked", "certificate_revoked", 44},
      {HandshakeReason::bad_purpose, "bad_purpose", "unsupported_certificate", 43},
      {HandshakeReason::not_a_ca, "not_a_ca", "unknown_ca", 48},
      {HandshakeReason::path_too_long, "path_too_long", "bad_certificate", 42},
      {HandshakeReason::bad_signature, "bad_signature", "decrypt_error", 51},
      {HandshakeReason::bad_certificate, "bad_certificate", "bad_certificate", 42},
      {HandshakeReason::handshake_failure, "handshake_failure", "handshake_failure", 40},
  };
  // ok and every refusal above, nothing else.
  ASSERT_EQ(kHandshakeReasons.size(), std::size(cases) + 1);
  for (const auto& c : cases) {
    EXPECT_EQ(reason_token(c.reason), c.token);
    EXPECT_EQ(errc_of(c.reason), errc_from_reason(c.token)) << c.token;
    EXPECT_EQ(alert_name(c.reason), c.alert) << c.token;
    ASSERT_TRUE(tls_alert(c.reason).has_value()) << c.token;
    EXPECT_EQ(tls_alert_number(*tls_alert(c.reason)), c.number) << c.token;
    EXPECT_EQ(tls_alert_name_for_number(c.number), c.alert) << c.token;
  }
  EXPECT_EQ(reason_token(HandshakeReason::ok), "ok");
  EXPECT_EQ(alert_name(HandshakeReason::ok), "");
}

TEST(FailureTable, VerificationCodesMapToTheirHandshakeReasonAndAlert) {
  EXPECT_EQ(handshake_reason(Errc::expired), HandshakeReason::expired);
  EXPECT_EQ(handshake_reason(Errc::unknown_issuer), HandshakeReason::unknown_issuer);
  EXPECT_EQ(handshake_reason(Errc::revoked), HandshakeReason::revoked);
  EXPECT_EQ(handshake_reason(Errc::bad_purpose), HandshakeReason::bad_purpose);
  EXPECT_EQ(handshake_reason(Errc::name_mismatch), HandshakeReason::bad_certificate);
  EXPECT_EQ(handshake_reason(Errc::chain_too_long), HandshakeReason::path_too_long);
  EXPECT_EQ(tls_alert(Errc::chain_too_long), TlsAlert::bad_certificate);
  EXPECT_EQ(tls_alert(Errc::expired), TlsAlert::certificate_expired);
  // Codes that are never a handshake's outcome have neither.
  EXPECT_EQ(handshake_reason(Errc::io_error), std::nullopt);
  EXPECT_EQ(tls_alert(Errc::store_busy), std::nullopt);
}

TEST(TlsAlerts, NamesAndNumbersAreRfc8446s) {
  EXPECT_EQ(tls_alert_name_for_number(0), "close_notify");
  EXPECT_EQ(tls_alert_name_for_number(112), "unrecognized_name");
  EXPECT_EQ(tls_alert_name_for_number(7), "unknown");
  EXPECT_EQ(tls_alert_from_number(48), TlsAlert::unknown_ca);
  EXPECT_EQ(tls_alert_from_number(255), std::nullopt);
}

}  // namespace
}  // namespace tether

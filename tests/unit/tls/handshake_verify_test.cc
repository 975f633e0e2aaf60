// Handshake verification end to end without sockets: a client and a server SSL object talk
// through a BIO pair in one thread, the server built as the gateway builds it (ServerContext,
// with the verify hook). Each refusal asserts the reason the server recorded, the alert it sent,
// the alert the client received, and that both are what the failure table says.
#include "tls/handshake_verify.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/handshake_reason.h"
#include "support/test_certificates.h"
#include "tls/server_context.h"
#include "x509/build.h"
#include "x509/inspect.h"
#include "x509/key.h"
#include "x509/pem.h"

namespace tether::tls {
namespace {

using testing::issue;
using testing::Issued;
using testing::kFarAhead;
using testing::kLongAgo;
using testing::make_ca;
constexpr int64_t kExpiredAt = kLongAgo + 86400;

struct LeafOptions {
  std::string eku = "clientAuth";
  int64_t not_after = kFarAhead;
};

Issued make_connector(const Issued& ca, LeafOptions options = {}) {
  return issue(testing::connector_spec(options.eku, options.not_after), &ca);
}

class SerialSet : public RevocationSet {
 public:
  bool is_revoked(std::string_view serial_hex) const override {
    return serials.contains(std::string(serial_hex));
  }
  std::set<std::string> serials;
};

// The alert the client received, recorded by its info callback.
void record_received_alert(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT || (ret >> 8) != SSL3_AL_FATAL) return;
  auto* received = static_cast<int*>(SSL_get_app_data(ssl));
  if (*received < 0) *received = ret & 0xff;
}

struct HandshakeResult {
  HandshakeOutcome outcome;
  int alert_received = -1;  // by the client; -1: none
};

class HandshakeVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-handshake-verify-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    x509::CertificateSpec server;
    server.subject = {{"CN", "localhost"}};
    server.dns_sans = {"localhost"};
    server.not_before = kLongAgo;
    server.not_after = kFarAhead;
    server.key_usage = "digitalSignature";
    server.extended_key_usage = "serverAuth";
    Issued server_cert = issue(server, nullptr);
    write("server.pem", x509::to_pem(server_cert.cert.get()));
    write("server-key.pem", *x509::private_key_to_pem(server_cert.key.get(), ""));
    write("ca.pem", x509::to_pem(ca_.cert.get()));
    config_.cert_chain_path = path("server.pem");
    config_.key_path = path("server-key.pem");
    config_.trust_anchor_paths = {path("ca.pem")};
    config_.trust_domain = "tether.internal";
    config_.revocation = revoked_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

  // One handshake of `client` against the server, both ends driven in turn until neither
  // makes progress (bounded).
  HandshakeResult handshake(const Issued& client) {
    auto server_ctx = ServerContext::create(config_);
    EXPECT_TRUE(server_ctx.ok()) << server_ctx.error().message;
    x509::SslPtr server = std::move((*server_ctx)->new_ssl()).value();

    x509::SslCtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_NONE, nullptr);  // the server is not tested
    EXPECT_EQ(SSL_CTX_use_certificate(client_ctx.get(), client.cert.get()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(client_ctx.get(), client.key.get()), 1);
    x509::SslPtr client_ssl(SSL_new(client_ctx.get()));
    HandshakeResult result;
    SSL_set_app_data(client_ssl.get(), &result.alert_received);
    SSL_set_info_callback(client_ssl.get(), &record_received_alert);
    SSL_set_tlsext_host_name(client_ssl.get(), "localhost");

    BIO* client_bio = nullptr;
    BIO* server_bio = nullptr;
    EXPECT_EQ(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0), 1);
    SSL_set_bio(client_ssl.get(), client_bio, client_bio);
    SSL_set_bio(server.get(), server_bio, server_bio);
    SSL_set_connect_state(client_ssl.get());
    SSL_set_accept_state(server.get());

    int server_rc = 0;
    bool client_done = false, server_done = false;
    for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
      if (!client_done) {
        int rc = SSL_do_handshake(client_ssl.get());
        client_done = rc == 1 || SSL_get_error(client_ssl.get(), rc) != SSL_ERROR_WANT_READ;
      }
      if (!server_done) {
        server_rc = SSL_do_handshake(server.get());
        server_done =
            server_rc == 1 || SSL_get_error(server.get(), server_rc) != SSL_ERROR_WANT_READ;
      }
    }
    EXPECT_TRUE(server_done) << "the server's handshake did not finish";
    // In TLS 1.3 the client finishes before the server judged its certificate: a read takes
    // in the server's answer (its ticket, or the alert).
    char byte;
    SSL_read(client_ssl.get(), &byte, 1);
    result.outcome = conclude_handshake(server.get(), server_rc == 1 ? 1 : 0);
    return result;
  }

  // The refusal is counted under `reason`, and the alert sent and received is the table's.
  void expect_refused(const HandshakeResult& r, HandshakeReason reason) {
    EXPECT_FALSE(r.outcome.ok());
    EXPECT_EQ(reason_token(r.outcome.reason), reason_token(reason)) << r.outcome.detail;
    ASSERT_TRUE(tls_alert(reason).has_value());
    int expected_alert = tls_alert_number(*tls_alert(reason));
    EXPECT_EQ(tls_alert_name_for_number(r.outcome.alert_sent), tls_alert_name(*tls_alert(reason)))
        << r.outcome.detail;
    EXPECT_EQ(r.alert_received, expected_alert) << "the client received another alert";
    EXPECT_FALSE(r.outcome.identity.has_value());
  }

  std::filesystem::path dir_;
  Issued ca_ = make_ca("tether test root");
  std::shared_ptr<SerialSet> revoked_ = std::make_shared<SerialSet>();
  ServerConfig config_;
};

TEST_F(HandshakeVerifyTest, ConnectorCertificateIsAcceptedWithItsIdentity) {
  Issued client = make_connector(ca_);
  HandshakeResult r = handshake(client);
  ASSERT_TRUE(r.outcome.ok()) << reason_token(r.outcome.reason) << ": " << r.outcome.detail;
  ASSERT_TRUE(r.outcome.identity.has_value());
  EXPECT_EQ(r.outcome.identity->common_name(), "connector/acme/edge-1");
  EXPECT_EQ(r.outcome.identity->tenant, "acme");
  EXPECT_EQ(r.outcome.serial_hex, x509::serial_hex(client.cert.get()));
  EXPECT_EQ(r.outcome.alert_sent, -1);
  EXPECT_EQ(r.alert_received, -1);
}

TEST_F(HandshakeVerifyTest, CertificateFromAnotherCaIsUnknownIssuer) {
  Issued other_ca = make_ca("tether test root");  // same name, another key
  HandshakeResult r = handshake(make_connector(other_ca));
  expect_refused(r, HandshakeReason::unknown_issuer);
  EXPECT_EQ(alert_name(HandshakeReason::unknown_issuer), "unknown_ca");
}

TEST_F(HandshakeVerifyTest, ExpiredCertificateIsExpired) {
  HandshakeResult r = handshake(make_connector(ca_, {.not_after = kExpiredAt}));
  expect_refused(r, HandshakeReason::expired);
  EXPECT_EQ(alert_name(HandshakeReason::expired), "certificate_expired");
}

TEST_F(HandshakeVerifyTest, RevokedCertificateIsRevoked) {
  Issued client = make_connector(ca_);
  revoked_->serials.insert(x509::serial_hex(client.cert.get()));
  HandshakeResult r = handshake(client);
  expect_refused(r, HandshakeReason::revoked);
  EXPECT_EQ(alert_name(HandshakeReason::revoked), "certificate_revoked");
  EXPECT_NE(r.outcome.detail.find("is revoked"), std::string::npos) << r.outcome.detail;
}

TEST_F(HandshakeVerifyTest, ServerAuthOnlyCertificateIsBadPurpose) {
  HandshakeResult r = handshake(make_connector(ca_, {.eku = "serverAuth"}));
  expect_refused(r, HandshakeReason::bad_purpose);
  EXPECT_EQ(alert_name(HandshakeReason::bad_purpose), "unsupported_certificate");
}

}  // namespace
}  // namespace tether::tls

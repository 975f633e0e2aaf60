#include "tls/server_context.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "x509/build.h"
#include "x509/inspect.h"
#include "x509/key.h"
#include "x509/pem.h"

namespace tether::tls {
namespace {

x509::PkeyPtr new_key() {
  return std::move(x509::generate_key(x509::KeyType::ecdsa_p256)).value();
}

x509::X509Ptr self_signed(EVP_PKEY* key, const std::string& cn, bool is_ca,
                          std::string eku = "serverAuth",
                          std::vector<std::string> dns_sans = {"localhost"},
                          int64_t not_before = 1700000000, int64_t not_after = 2000000000) {
  x509::CertificateSpec spec;
  spec.subject = {{"CN", cn}};
  spec.not_before = not_before;
  spec.not_after = not_after;
  spec.is_ca = is_ca;
  spec.key_usage = is_ca ? "keyCertSign,cRLSign" : "digitalSignature";
  if (!is_ca) {
    spec.extended_key_usage = eku;
    spec.dns_sans = std::move(dns_sans);
  }
  auto serial = x509::random_serial();
  return std::move(x509::build_certificate(spec, key, serial->get(), nullptr, key)).value();
}

class ServerContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-server-context-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto server_key = new_key();
    write("server.pem", x509::to_pem(self_signed(server_key.get(), "localhost", false).get()));
    write("server-key.pem", *x509::private_key_to_pem(server_key.get(), ""));
    auto other_key = new_key();
    write("other-key.pem", *x509::private_key_to_pem(other_key.get(), ""));
    auto ca_key = new_key();
    write("ca.pem", x509::to_pem(self_signed(ca_key.get(), "client CA", true).get()));
    auto ca2_key = new_key();
    write("ca2.pem", x509::to_pem(self_signed(ca2_key.get(), "client CA 2", true).get()));
    write("empty.pem", "no certificates here\n");
    config_.cert_chain_path = path("server.pem");
    config_.key_path = path("server-key.pem");
    config_.trust_anchor_paths = {path("ca.pem")};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  Error create_error() {
    auto ctx = ServerContext::create(config_);
    EXPECT_FALSE(ctx.ok());
    if (ctx.ok()) return Error{};
    return ctx.error();
  }

  std::filesystem::path dir_;
  ServerConfig config_;
};

bool mentions(const Error& e, const std::string& text) {
  return e.message.find(text) != std::string::npos;
}

TEST_F(ServerContextTest, ValidConfigBuildsAContext) {
  auto ctx = ServerContext::create(config_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  SSL_CTX* native = (*ctx)->native();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(native), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(native), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  EXPECT_EQ(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(native)), 0);
  EXPECT_NE(SSL_CTX_get_options(native) & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_NE(SSL_CTX_get_options(native) & SSL_OP_NO_COMPRESSION, 0u);
  // Only ECDHE + AEAD suites for TLS 1.2 (and the TLS 1.3 ones, all AEAD).
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(native);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    EXPECT_TRUE(SSL_CIPHER_is_aead(c)) << SSL_CIPHER_get_name(c);
    int kx = SSL_CIPHER_get_kx_nid(c);
    EXPECT_TRUE(kx == NID_kx_ecdhe || kx == NID_kx_any) << SSL_CIPHER_get_name(c);
  }
  auto ssl = (*ctx)->new_ssl();
  ASSERT_TRUE(ssl.ok());
  EXPECT_EQ(handshake_outcome(ssl->get()), nullptr);
}

TEST_F(ServerContextTest, IntermediatesMustBeCaCertificatesAndChangeTheSessionContext) {
  auto without = ServerContext::create(config_);
  ASSERT_TRUE(without.ok()) << without.error().message;
  config_.intermediate_paths = {path("ca2.pem")};
  auto with = ServerContext::create(config_);
  ASSERT_TRUE(with.ok()) << with.error().message;
  // Resumption cannot cross a change of what paths can be built from.
  EXPECT_NE((*with)->session_id_context_hex(), (*without)->session_id_context_hex());
  config_.intermediate_paths = {path("server.pem")};
  auto leaf = ServerContext::create(config_);
  ASSERT_FALSE(leaf.ok());
  EXPECT_EQ(leaf.error().code, Errc::not_a_ca);
  EXPECT_NE(leaf.error().message.find("server.pem"), std::string::npos) << leaf.error().message;
  EXPECT_NE(leaf.error().message.find("not a CA certificate"), std::string::npos);
}

TEST_F(ServerContextTest, ServerCertificatesClientsWouldRefuseAreRefusedNamingWhy) {
  struct Bad {
    std::string eku;
    std::vector<std::string> dns;
    int64_t not_before, not_after;
    Errc code;
    std::string says;
  };
  const Bad cases[] = {
      {"clientAuth", {"localhost"}, 1700000000, 2000000000, Errc::bad_purpose, "no serverAuth"},
      {"serverAuth", {}, 1700000000, 2000000000, Errc::bad_name, "no DNS or IP subjectAltName"},
      {"serverAuth", {"localhost"}, 1600000000, 1700000000, Errc::expired, "expired at 2023-11-14"},
      {"serverAuth",
       {"localhost"},
       1900000000,
       2000000000,
       Errc::not_yet_valid,
       "not valid before"},
  };
  for (const Bad& c : cases) {
    auto key = new_key();
    write("bad.pem",
          x509::to_pem(
              self_signed(key.get(), "gw", false, c.eku, c.dns, c.not_before, c.not_after).get()));
    write("bad-key.pem", *x509::private_key_to_pem(key.get(), ""));
    config_.cert_chain_path = path("bad.pem");
    config_.key_path = path("bad-key.pem");
    auto ctx = ServerContext::create(config_);
    ASSERT_FALSE(ctx.ok()) << c.says;
    EXPECT_EQ(ctx.error().code, c.code) << ctx.error().message;
    EXPECT_NE(ctx.error().message.find(c.says), std::string::npos) << ctx.error().message;
    EXPECT_NE(ctx.error().message.find("bad.pem"), std::string::npos) << ctx.error().message;
  }
}

TEST_F(ServerContextTest, Tls13OnlyIsSelectable) {
  config_.min_version = TlsVersion::tls1_3;
  auto ctx = ServerContext::create(config_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*ctx)->native()), TLS1_3_VERSION);
}

TEST_F(ServerContextTest, MissingCertificateFileIsNamed) {
  config_.cert_chain_path = path("nope.pem");
  Error e = create_error();
  EXPECT_EQ(e.code, Errc::io_error);
  EXPECT_TRUE(mentions(e, path("nope.pem"))) << e.message;
}

TEST_F(ServerContextTest, MissingKeyFileIsNamed) {
  config_.key_path = path("nope-key.pem");
  Error e = create_error();
  EXPECT_EQ(e.code, Errc::io_error);
  EXPECT_TRUE(mentions(e, path("nope-key.pem"))) << e.message;
}

TEST_F(ServerContextTest, KeyThatDoesNotMatchTheCertificateNamesBothFiles) {
  config_.key_path = path("other-key.pem");
  Error e = create_error();
  EXPECT_EQ(e.code, Errc::crypto_error);
  EXPECT_TRUE(mentions(e, path("other-key.pem"))) << e.message;
  EXPECT_TRUE(mentions(e, path("server.pem"))) << e.message;
  EXPECT_TRUE(mentions(e, "does not match")) << e.message;
}

TEST_F(ServerContextTest, EmptyTrustListIsRejected) {
  config_.trust_anchor_paths.clear();
  Error e = create_error();
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_TRUE(mentions(e, "no trust anchors")) << e.message;
}

TEST_F(ServerContextTest, MissingTrustFileIsNamed) {
  config_.trust_anchor_paths.push_back(path("missing-ca.pem"));
  Error e = create_error();
  EXPECT_EQ(e.code, Errc::io_error);
  EXPECT_TRUE(mentions(e, path("missing-ca.pem"))) << e.message;
}

TEST_F(ServerContextTest, TrustFileWithoutCertificatesIsNamed) {
  config_.trust_anchor_paths = {path("empty.pem")};
  Error e = create_error();
  EXPECT_EQ(e.code, Errc::parse_error);
  EXPECT_TRUE(mentions(e, path("empty.pem"))) << e.message;
}

TEST_F(ServerContextTest, BadTrustDomainIsRejected) {
  config_.trust_domain = "Not A Domain";
  Error e = create_error();
  EXPECT_TRUE(mentions(e, "Not A Domain")) << e.message;
}

TEST_F(ServerContextTest, SessionIdContextFollowsTrustAnchorsAndSettings) {
  auto a = ServerContext::create(config_);
  auto a_again = ServerContext::create(config_);
  ASSERT_TRUE(a.ok() && a_again.ok());
  EXPECT_EQ((*a)->session_id_context_hex(), (*a_again)->session_id_context_hex());
  EXPECT_EQ((*a)->session_id_context_hex().size(), 64u);

  ServerConfig more_trust = config_;
  more_trust.trust_anchor_paths.push_back(path("ca2.pem"));
  auto b = ServerContext::create(more_trust);
  ASSERT_TRUE(b.ok());
  EXPECT_NE((*a)->session_id_context_hex(), (*b)->session_id_context_hex());

  ServerConfig tls13 = config_;
  tls13.min_version = TlsVersion::tls1_3;
  auto c = ServerContext::create(tls13);
  ASSERT_TRUE(c.ok());
  EXPECT_NE((*a)->session_id_context_hex(), (*c)->session_id_context_hex());
}

}  // namespace
}  // namespace tether::tls

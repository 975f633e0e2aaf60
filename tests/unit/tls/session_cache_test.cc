#include "tls/session_cache.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>
#include <vector>

#include "tls/session_binding.h"
#include "x509/build.h"
#include "x509/inspect.h"
#include "x509/key.h"

namespace tether::tls {
namespace {

constexpr time_t kNow = 1800000000;
constexpr long kTimeout = 7200;

std::string id_number(int n) {
  std::string id(32, '\0');
  id.replace(0, std::to_string(n).size(), std::to_string(n));
  return id;
}

// A session as the cache sees it, without a handshake: id, secret, version, time, no peer.
x509::SslSessionPtr fake_session(const std::string& id, int version = TLS1_2_VERSION,
                                 time_t made = kNow, long timeout = kTimeout) {
  static const SSL_CIPHER* cipher = [] {
    x509::SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
    x509::SslPtr ssl(SSL_new(ctx.get()));
    static const unsigned char aes128gcm[] = {0x13, 0x01};
    return SSL_CIPHER_find(ssl.get(), aes128gcm);
  }();
  x509::SslSessionPtr s(SSL_SESSION_new());
  const unsigned char secret[48] = {1, 2, 3};
  EXPECT_EQ(SSL_SESSION_set1_id(s.get(), reinterpret_cast<const unsigned char*>(id.data()),
                                static_cast<unsigned>(id.size())),
            1);
  EXPECT_EQ(SSL_SESSION_set1_master_key(s.get(), secret, sizeof secret), 1);
  EXPECT_EQ(SSL_SESSION_set_cipher(s.get(), cipher), 1);
  EXPECT_EQ(SSL_SESSION_set_protocol_version(s.get(), version), 1);
  SSL_SESSION_set_time(s.get(), static_cast<long>(made));
  SSL_SESSION_set_timeout(s.get(), timeout);
  return s;
}

size_t der_size(const SSL_SESSION* s) {
  return static_cast<size_t>(i2d_SSL_SESSION(s, nullptr));
}

TEST(SessionCache, EvictsTheOldestToStayWithinTheLimitInBytes) {
  auto probe = fake_session(id_number(0));
  const std::string binding = "sni:acme.test";
  size_t entry = SessionCache::entry_bytes(32, binding.size(), der_size(probe.get()));
  SessionCache cache(10 * entry + entry / 2);  // room for 10
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(cache.add(fake_session(id_number(i)).get(), binding, kNow));
    EXPECT_LE(cache.stats().bytes, 10 * entry + entry / 2);
  }
  SessionCacheStats stats = cache.stats();
  EXPECT_EQ(stats.sessions, 10u);
  EXPECT_EQ(stats.bytes, 10 * entry);
  EXPECT_EQ(stats.limit_bytes, 10 * entry + entry / 2);
  EXPECT_EQ(stats.evictions, 15u);
  // Least recently added went first.
  EXPECT_EQ(cache.find(id_number(14), binding, kNow), nullptr);
  EXPECT_NE(cache.find(id_number(15), binding, kNow), nullptr);
  EXPECT_NE(cache.find(id_number(24), binding, kNow), nullptr);
}

TEST(SessionCache, AFoundSessionIsANewDecodingOfTheOneAdded) {
  SessionCache cache(1 << 20);
  auto added = fake_session(id_number(7));
  ASSERT_TRUE(cache.add(added.get(), "sni:acme.test", kNow));
  auto found = cache.find(id_number(7), "sni:acme.test", kNow);
  ASSERT_NE(found, nullptr);
  EXPECT_NE(found.get(), added.get());
  unsigned int length = 0;
  const unsigned char* id = SSL_SESSION_get_id(found.get(), &length);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(id), length), id_number(7));
  EXPECT_EQ(SSL_SESSION_get_protocol_version(found.get()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_SESSION_get_time(found.get()), kNow);
  EXPECT_EQ(SSL_SESSION_get_timeout(found.get()), kTimeout);
}

TEST(SessionCache, ALookupUnderAnotherBindingMissesAndKeepsTheSession) {
  SessionCache cache(1 << 20);
  ASSERT_TRUE(cache.add(fake_session(id_number(1)).get(), "sni:acme.test", kNow));
  EXPECT_EQ(cache.find(id_number(1), "sni:globex.test", kNow), nullptr);
  EXPECT_EQ(cache.find(id_number(1), "sni:", kNow), nullptr);
  EXPECT_EQ(cache.stats().sessions, 1u);
  EXPECT_NE(cache.find(id_number(1), "sni:acme.test", kNow), nullptr);
}

TEST(SessionCache, AnExpiredSessionMissesAndIsDropped) {
  SessionCache cache(1 << 20);
  ASSERT_TRUE(cache.add(fake_session(id_number(1), TLS1_2_VERSION, kNow, 60).get(), "sni:", kNow));
  EXPECT_NE(cache.find(id_number(1), "sni:", kNow + 60), nullptr);  // the last second it is valid
  EXPECT_EQ(cache.find(id_number(1), "sni:", kNow + 61), nullptr);
  SessionCacheStats stats = cache.stats();
  EXPECT_EQ(stats.sessions, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  EXPECT_EQ(stats.evictions, 0u);  // expiry is not eviction
}

TEST(SessionCache, ExpiredSessionsAtTheOldEndGoWhenOneIsAdded) {
  SessionCache cache(1 << 20);
  ASSERT_TRUE(cache.add(fake_session(id_number(1), TLS1_2_VERSION, kNow, 60).get(), "sni:", kNow));
  ASSERT_TRUE(
      cache.add(fake_session(id_number(2), TLS1_2_VERSION, kNow + 100).get(), "sni:", kNow + 100));
  EXPECT_EQ(cache.stats().sessions, 1u);
  EXPECT_NE(cache.find(id_number(2), "sni:", kNow + 100), nullptr);
}

TEST(SessionCache, RemoveForgetsTheSession) {
  SessionCache cache(1 << 20);
  ASSERT_TRUE(cache.add(fake_session(id_number(1)).get(), "sni:", kNow));
  ASSERT_TRUE(cache.add(fake_session(id_number(2)).get(), "sni:", kNow));
  cache.remove(id_number(1));
  cache.remove(id_number(3));  // not held: nothing happens
  EXPECT_EQ(cache.find(id_number(1), "sni:", kNow), nullptr);
  EXPECT_NE(cache.find(id_number(2), "sni:", kNow), nullptr);
  SessionCacheStats stats = cache.stats();
  EXPECT_EQ(stats.sessions, 1u);
  EXPECT_EQ(stats.evictions, 0u);
}

TEST(SessionCache, ATls13SessionResumesOnceATls12OneAgain) {
  SessionCache cache(1 << 20);
  ASSERT_TRUE(cache.add(fake_session(id_number(13), TLS1_3_VERSION).get(), "sni:", kNow));
  ASSERT_TRUE(cache.add(fake_session(id_number(12), TLS1_2_VERSION).get(), "sni:", kNow));
  EXPECT_NE(cache.find(id_number(13), "sni:", kNow), nullptr);
  EXPECT_EQ(cache.find(id_number(13), "sni:", kNow), nullptr);
  EXPECT_NE(cache.find(id_number(12), "sni:", kNow), nullptr);
  EXPECT_NE(cache.find(id_number(12), "sni:", kNow), nullptr);
  EXPECT_EQ(cache.stats().sessions, 1u);
}

TEST(SessionCache, ASecondAddOfAnIdReplacesTheFirst) {
  SessionCache cache(1 << 20);
  ASSERT_TRUE(cache.add(fake_session(id_number(1)).get(), "sni:acme.test", kNow));
  ASSERT_TRUE(cache.add(fake_session(id_number(1)).get(), "sni:globex.test", kNow));
  SessionCacheStats stats = cache.stats();
  EXPECT_EQ(stats.sessions, 1u);
  EXPECT_EQ(stats.bytes, SessionCache::entry_bytes(32, std::string("sni:globex.test").size(),
                                                   der_size(fake_session(id_number(1)).get())));
  EXPECT_EQ(cache.find(id_number(1), "sni:acme.test", kNow), nullptr);
  EXPECT_NE(cache.find(id_number(1), "sni:globex.test", kNow), nullptr);
}

TEST(SessionCache, ASmallerLimitEvictsAtOnce) {
  SessionCache cache(1 << 20);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(cache.add(fake_session(id_number(i)).get(), "sni:", kNow));
  size_t entry = cache.stats().bytes / 10;
  cache.set_limit(3 * entry);
  SessionCacheStats stats = cache.stats();
  EXPECT_EQ(stats.sessions, 3u);
  EXPECT_EQ(stats.evictions, 7u);
  EXPECT_EQ(stats.limit_bytes, 3 * entry);
  EXPECT_NE(cache.find(id_number(9), "sni:", kNow), nullptr);
  EXPECT_EQ(cache.find(id_number(6), "sni:", kNow), nullptr);
}

TEST(SessionCache, ASessionBiggerThanTheLimitIsNotKeptAndCounts) {
  SessionCache cache(100);
  EXPECT_FALSE(cache.add(fake_session(id_number(1)).get(), "sni:", kNow));
  SessionCacheStats stats = cache.stats();
  EXPECT_EQ(stats.sessions, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  EXPECT_EQ(stats.evictions, 1u);
}

TEST(SessionCache, OffKeepsNothing) {
  SessionCache cache(0);
  EXPECT_FALSE(cache.add(fake_session(id_number(1)).get(), "sni:", kNow));
  EXPECT_EQ(cache.find(id_number(1), "sni:", kNow), nullptr);
  SessionCacheStats stats = cache.stats();
  EXPECT_EQ(stats.sessions, 0u);
  EXPECT_EQ(stats.limit_bytes, 0u);
  EXPECT_EQ(stats.evictions, 0u);
}

// --- real handshakes, in process, over a BIO pair ---------------------------------------------

x509::X509Ptr issue(EVP_PKEY* key, const std::string& cn, bool is_ca, X509* issuer,
                    EVP_PKEY* issuer_key, const std::string& eku) {
  x509::CertificateSpec spec;
  spec.subject = {{"O", "tether"}, {"CN", cn}};
  if (!is_ca) spec.uri_sans = {"spiffe://tether.internal/connector/acme/edge-1"};
  spec.not_before = 1700000000;
  spec.not_after = 2000000000;
  spec.is_ca = is_ca;
  spec.key_usage = is_ca ? "keyCertSign,cRLSign" : "digitalSignature";
  spec.extended_key_usage = eku;
  auto serial = x509::random_serial();
  return std::move(x509::build_certificate(spec, key, serial->get(), issuer, issuer_key)).value();
}

x509::PkeyPtr new_key() {
  return std::move(x509::generate_key(x509::KeyType::ecdsa_p256)).value();
}

class SessionCacheHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_key_ = new_key();
    ca_ = issue(ca_key_.get(), "tether issuing CA", true, nullptr, ca_key_.get(), "");
    client_key_ = new_key();
    client_ = issue(client_key_.get(), "edge-1", false, ca_.get(), ca_key_.get(), "clientAuth");
    server_key_ = new_key();
    server_ = issue(server_key_.get(), "gateway", false, nullptr, server_key_.get(), "serverAuth");
    server_ctx_ = server_context("context-a");
  }

  // A server context as the gateway's keeps sessions (stateful tickets, names bound, a session
  // id context, a client certificate required), without tether's verification hook.
  x509::SslCtxPtr server_context(const std::string& sid_ctx) {
    x509::SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), server_.get()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), server_key_.get()), 1);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       [](int, X509_STORE_CTX*) { return 1; });
    EXPECT_EQ(SSL_CTX_set_session_id_context(ctx.get(),
                                             reinterpret_cast<const unsigned char*>(sid_ctx.data()),
                                             static_cast<unsigned>(sid_ctx.size())),
              1);
    EXPECT_TRUE(bind_sessions_to_server_name(ctx.get()).ok());
    cache_.install(ctx.get());
    SSL_CTX_set_num_tickets(ctx.get(), 1);
    return ctx;
  }

  // One connection: a full handshake, or a resumption of `session`. Returns the client's
  // session afterwards (with the ticket read, for TLS 1.3) and whether the server resumed.
  struct Connection {
    x509::SslSessionPtr session;
    bool resumed = false;
    bool peer_certificate = false;
  };
  Connection connect(int version, const std::string& sni, SSL_SESSION* session = nullptr,
                     SSL_CTX* server_ctx = nullptr) {
    x509::SslCtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(client_ctx.get(), version);
    SSL_CTX_set_max_proto_version(client_ctx.get(), version);
    EXPECT_EQ(SSL_CTX_use_certificate(client_ctx.get(), client_.get()), 1);
    EXPECT_EQ(SSL_CTX_add1_chain_cert(client_ctx.get(), ca_.get()), 1);  // the chain is sent
    EXPECT_EQ(SSL_CTX_use_PrivateKey(client_ctx.get(), client_key_.get()), 1);
    x509::SslPtr client(SSL_new(client_ctx.get()));
    x509::SslPtr server(SSL_new(server_ctx ? server_ctx : server_ctx_.get()));
    BIO* client_bio = nullptr;
    BIO* server_bio = nullptr;
    EXPECT_EQ(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0), 1);
    SSL_set_bio(client.get(), client_bio, client_bio);
    SSL_set_bio(server.get(), server_bio, server_bio);
    SSL_set_connect_state(client.get());
    SSL_set_accept_state(server.get());
    if (!sni.empty()) SSL_set_tlsext_host_name(client.get(), sni.c_str());
    if (session != nullptr) {
      EXPECT_EQ(SSL_set_session(client.get(), session), 1);
    }

    bool client_done = false;
    bool server_done = false;
    for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
      client_done = client_done || step(client.get());
      server_done = server_done || step(server.get());
    }
    EXPECT_TRUE(client_done && server_done) << "handshake did not finish";
    // TLS 1.3 tickets arrive after the handshake: reading takes them in.
    unsigned char byte = 0;
    EXPECT_LE(SSL_read(client.get(), &byte, 1), 0);
    ERR_clear_error();
    Connection out;
    out.session.reset(SSL_get1_session(client.get()));
    out.resumed = SSL_session_reused(server.get()) == 1;
    out.peer_certificate = SSL_get0_peer_certificate(server.get()) != nullptr;
    // A clean close, so that OpenSSL does not drop the session as a failed connection's.
    SSL_shutdown(client.get());
    SSL_shutdown(server.get());
    return out;
  }

  static bool step(SSL* ssl) {
    int rc = SSL_do_handshake(ssl);
    if (rc == 1) return true;
    int error = SSL_get_error(ssl, rc);
    EXPECT_TRUE(error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
        << "SSL error " << error << ": " << ERR_error_string(ERR_peek_error(), nullptr);
    return false;
  }

  x509::PkeyPtr ca_key_, client_key_, server_key_;
  x509::X509Ptr ca_, client_, server_;
  SessionCache cache_{1 << 20};
  x509::SslCtxPtr server_ctx_;
};

TEST_F(SessionCacheHandshake, ASessionWithAClientCertificateIsASmallMultipleOfItsDer) {
  Connection full = connect(TLS1_3_VERSION, "acme.test");
  ASSERT_FALSE(full.resumed);
  SessionCacheStats stats = cache_.stats();
  ASSERT_EQ(stats.sessions, 1u);
  // The entry is the leaf certificate's DER plus secrets, ids and names: not the decoded chain
  // (about 13 KiB), and not the CA certificate the client sent along.
  size_t cert_der = static_cast<size_t>(i2d_X509(client_.get(), nullptr));
  size_t ca_der = static_cast<size_t>(i2d_X509(ca_.get(), nullptr));
  size_t der =
      stats.bytes - SessionCache::kEntryOverhead - 32 - std::string("sni:acme.test").size();
  EXPECT_GT(der, cert_der);
  EXPECT_LT(der, cert_der + ca_der);
  EXPECT_LT(stats.bytes, 2 * cert_der + SessionCache::kEntryOverhead);
  EXPECT_LT(stats.bytes, 2048u) << "cert " << cert_der << " bytes";
}

TEST_F(SessionCacheHandshake, Tls13TicketsResumeOnceUnderTheirOwnNameWithTheCertificate) {
  Connection full = connect(TLS1_3_VERSION, "acme.test");
  ASSERT_TRUE(full.session && SSL_SESSION_is_resumable(full.session.get()));
  EXPECT_FALSE(connect(TLS1_3_VERSION, "globex.test", full.session.get()).resumed);
  EXPECT_FALSE(connect(TLS1_3_VERSION, "", full.session.get()).resumed);

  Connection resumed = connect(TLS1_3_VERSION, "acme.test", full.session.get());
  EXPECT_TRUE(resumed.resumed);
  // The decoded session brings the client's certificate back for the identity checks.
  EXPECT_TRUE(resumed.peer_certificate);
  // The ticket was used: it does not resume again; the new one it was swapped for does.
  EXPECT_FALSE(connect(TLS1_3_VERSION, "acme.test", full.session.get()).resumed);
  EXPECT_TRUE(connect(TLS1_3_VERSION, "acme.test", resumed.session.get()).resumed);
}

TEST_F(SessionCacheHandshake, Tls12SessionIdsResumeUnderTheirOwnName) {
  Connection full = connect(TLS1_2_VERSION, "acme.test");
  ASSERT_TRUE(full.session && SSL_SESSION_is_resumable(full.session.get()));
  EXPECT_EQ(cache_.stats().sessions, 1u);
  EXPECT_FALSE(connect(TLS1_2_VERSION, "globex.test", full.session.get()).resumed);
  Connection resumed = connect(TLS1_2_VERSION, "acme.test", full.session.get());
  EXPECT_TRUE(resumed.resumed);
  EXPECT_TRUE(resumed.peer_certificate);
  EXPECT_TRUE(connect(TLS1_2_VERSION, "acme.test", full.session.get()).resumed);
}

TEST_F(SessionCacheHandshake, AnotherSessionIdContextDoesNotResume) {
  // As after a reload that changed the trust: the contexts share the cache, and OpenSSL refuses
  // the decoded session because its session id context is not this context's.
  x509::SslCtxPtr other = server_context("context-b");
  Connection full = connect(TLS1_2_VERSION, "acme.test");
  EXPECT_FALSE(connect(TLS1_2_VERSION, "acme.test", full.session.get(), other.get()).resumed);
  EXPECT_TRUE(connect(TLS1_2_VERSION, "acme.test", full.session.get()).resumed);
}

TEST_F(SessionCacheHandshake, OffMeansFullHandshakesOnly) {
  cache_.set_limit(0);
  Connection full = connect(TLS1_3_VERSION, "acme.test");
  EXPECT_FALSE(connect(TLS1_3_VERSION, "acme.test", full.session.get()).resumed);
  Connection full12 = connect(TLS1_2_VERSION, "acme.test");
  EXPECT_FALSE(connect(TLS1_2_VERSION, "acme.test", full12.session.get()).resumed);
  EXPECT_EQ(cache_.stats().sessions, 0u);
}

}  // namespace
}  // namespace tether::tls

#include "pki/certificate_authority.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/fs.h"
#include "pki/file_key_store.h"
#include "pki/lifecycle.h"
#include "store/sqlite_store.h"
#include "x509/inspect.h"
#include "x509/pem.h"

namespace tether::pki {
namespace {

using verify::IdentityKind;

constexpr int64_t kNow = 1800000000;  // 2027-01-15

// A key store that keeps keys in memory: the CA must work through the interface alone, with no
// file behind a key.
class MemoryKeyStore final : public KeyStore {
 public:
  Result<x509::PkeyPtr> create(std::string_view label, x509::KeyType type) override {
    if (keys_.count(std::string(label))) return make_error(Errc::already_exists, "taken");
    TETHER_ASSIGN_OR_RETURN(auto key, x509::generate_key(type));
    keys_[std::string(label)] = x509::up_ref(key.get());
    return key;
  }
  Result<x509::PkeyPtr> load(std::string_view label) const override {
    auto it = keys_.find(std::string(label));
    if (it == keys_.end()) return make_error(Errc::not_found, "no key " + std::string(label));
    return x509::up_ref(it->second.get());
  }
  Result<bool> contains(std::string_view label) const override {
    return keys_.count(std::string(label)) > 0;
  }
  Status remove(std::string_view label) override {
    keys_.erase(std::string(label));
    return ok_status();
  }
  std::string description() const override { return "memory"; }

  std::map<std::string, x509::PkeyPtr> keys_;
};

// Hands one MemoryKeyStore to every caller, as a token is one place whatever directory is asked.
class SharedKeys final : public KeyStore {
 public:
  explicit SharedKeys(std::shared_ptr<MemoryKeyStore> keys) : keys_(std::move(keys)) {}
  Result<x509::PkeyPtr> create(std::string_view l, x509::KeyType t) override {
    return keys_->create(l, t);
  }
  Result<x509::PkeyPtr> load(std::string_view l) const override { return keys_->load(l); }
  Result<bool> contains(std::string_view l) const override { return keys_->contains(l); }
  Status remove(std::string_view l) override { return keys_->remove(l); }
  std::string description() const override { return keys_->description(); }

 private:
  std::shared_ptr<MemoryKeyStore> keys_;
};

// A request for `kind`/`name`; a gateway's DNS and IP names when given.
NamedIssueRequest named(IdentityKind kind, std::string name, std::vector<std::string> dns = {},
                        std::vector<std::string> ips = {}) {
  NamedIssueRequest request;
  request.kind = kind;
  request.name = std::move(name);
  if (!dns.empty() || !ips.empty()) request.names = *ServerNames::parse(dns, ips);
  return request;
}

class CertificateAuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-ca-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(store::SqliteStore::open((dir_ / "tether.db").string())).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string data() const { return dir_.string(); }
  CertificateAuthority::KeyStoreAt files() const {
    return [](const std::string& ca_dir) { return std::make_unique<FileKeyStore>(ca_dir, ""); };
  }
  CertificateAuthority init() {
    auto ca = CertificateAuthority::initialize(data(), *store_, files(), CaInitOptions(), ctx_);
    EXPECT_TRUE(ca.ok()) << ca.error().message;
    return std::move(ca).value();
  }
  size_t audit_count(std::string_view action) {
    auto events = store_->list_audit(1000);
    EXPECT_TRUE(events.ok());
    size_t n = 0;
    for (const auto& e : *events) n += e.action == action;
    return n;
  }

  std::filesystem::path dir_;
  Context ctx_{"test", kNow};
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(CertificateAuthorityTest, InitMakesBothIntermediatesUnderTheOneRoot) {
  auto ca = init();
  ASSERT_NE(ca.server_ca(), nullptr);
  EXPECT_EQ(x509::common_name(X509_get_subject_name(ca.connector_ca())), "tether Connector CA");
  EXPECT_EQ(x509::common_name(X509_get_subject_name(ca.server_ca())), "tether Server CA");
  for (X509* intermediate : {ca.connector_ca(), ca.server_ca()}) {
    EXPECT_EQ(X509_verify(intermediate, X509_get0_pubkey(ca.root())), 1);
    EXPECT_EQ(X509_get_pathlen(intermediate), 0);
  }
  for (const char* key : {"root-key.pem", "issuing-key.pem", "server-ca-key.pem"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / "ca" / key).c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  EXPECT_TRUE(store_->get_setting("server_ca_sha256")->has_value());
  EXPECT_EQ(audit_count("ca.init"), 1u);
}

TEST_F(CertificateAuthorityTest, InitTwiceIsRefusedAsCaExists) {
  init();
  auto again = CertificateAuthority::initialize(data(), *store_, files(), CaInitOptions(), ctx_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::ca_exists);
}

TEST_F(CertificateAuthorityTest, EachKindIsIssuedByItsOwnIntermediate) {
  auto ca = init();
  auto gateway = ca.issuer_for(IdentityKind::gateway, ctx_);
  auto service = ca.issuer_for(IdentityKind::service, ctx_);
  ASSERT_TRUE(gateway.ok() && service.ok());
  EXPECT_EQ((*gateway)->issuing(), ca.server_ca());
  EXPECT_EQ((*service)->issuing(), ca.connector_ca());
  // The Connector CA refuses a server certificate, and the Server CA a client one.
  auto key = x509::generate_key(x509::KeyType::ecdsa_p256);
  LeafSubject gw{{IdentityKind::gateway, "", "gw-1"}, *ServerNames::parse({"gw.test"}, {})};
  auto wrong = (*service)->issue(gw, key->get(), Days::of(1).value(), kNow);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("does not issue gateway certificates"), std::string::npos);
  auto wrong_client = (*gateway)->issue(verify::Identity{IdentityKind::admin, "", "ops"},
                                        key->get(), Days::of(1).value(), kNow);
  ASSERT_FALSE(wrong_client.ok());
  EXPECT_NE(wrong_client.error().message.find("tether Server CA does not issue admin"),
            std::string::npos);
}

TEST_F(CertificateAuthorityTest, GatewayWithoutNamesIsRefused) {
  auto ca = init();
  auto issued = issue_named(*store_, ca, ctx_, named(IdentityKind::gateway, "gw-1"));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::invalid_argument);
  EXPECT_NE(issued.error().message.find("at least one --dns NAME or --ip ADDRESS"),
            std::string::npos);
}

TEST_F(CertificateAuthorityTest, NamedCertificatesAreRecordedRenewedAndRevokedByKindAndName) {
  auto ca = init();
  auto first = issue_named(*store_, ca, ctx_,
                           named(IdentityKind::gateway, "gw-1", {"gw.test"}, {"127.0.0.1"}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = issue_named(*store_, ca, ctx_,
                           named(IdentityKind::gateway, "gw-1", {"gw.test"}, {"127.0.0.1"}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);

  // No names: those of the current certificate.
  auto renewed = renew_named(*store_, ca, ctx_, named(IdentityKind::gateway, "gw-1"));
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(x509::dns_sans(renewed->certificate.cert.get()), std::vector<std::string>{"gw.test"});
  EXPECT_EQ(x509::ip_sans(renewed->certificate.cert.get()), std::vector<std::string>{"127.0.0.1"});

  store::CertificateFilter filter;
  filter.kind = "gateway";
  auto listed = store_->list_certificates(filter);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ(listed->front().name, "gw-1");
  EXPECT_TRUE(listed->front().tenant_id.empty());

  auto revoked =
      revoke_named(*store_, ctx_, IdentityKind::gateway, "gw-1", first->certificate.serial, 1);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  auto feed = store_->revocations_after(0, 10);
  ASSERT_EQ(feed->size(), 1u);
  EXPECT_EQ(feed->front().serial, first->certificate.serial) << "the gateway's feed sees it";

  // The Server CA's CRL lists it; the Connector CA's does not speak for it.
  auto server_crl = issue_crl(*store_, **ca.issuer(IssuerRole::server_ca, ctx_), ctx_, 86400);
  auto connector_crl = issue_crl(*store_, **ca.issuer(IssuerRole::connector_ca, ctx_), ctx_, 86400);
  ASSERT_TRUE(server_crl.ok() && connector_crl.ok());
  EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(server_crl->get())), 1);
  // An empty revokedCertificates list is absent: OpenSSL returns no stack (-1 entries).
  EXPECT_LE(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(connector_crl->get())), 0);
  EXPECT_EQ(audit_count("gateway.issue"), 1u);
  EXPECT_EQ(audit_count("gateway.renew"), 1u);
  EXPECT_EQ(audit_count("certificate.revoke"), 1u);
}

TEST_F(CertificateAuthorityTest, ServiceCsrAskingForAnotherNameIsRefused) {
  auto ca = init();
  auto key = x509::generate_key(x509::KeyType::ecdsa_p256);
  NamedIssueRequest request = named(IdentityKind::service, "billing");
  request.csr = std::move(x509::build_csr(key->get(), "service/payroll")).value();
  auto issued = issue_named(*store_, ca, ctx_, std::move(request));
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::csr_identity_mismatch);
  EXPECT_NE(issued.error().message.find("'service/payroll'"), std::string::npos);
}

TEST_F(CertificateAuthorityTest, ADataDirectoryWithoutTheServerCaGetsItOnFirstUseAudited) {
  // A data directory as made before the Server CA existed: no server-ca files, and a store
  // whose CA record has no server_ca_sha256.
  {
    auto other = std::move(store::SqliteStore::open((dir_ / "scratch.db").string())).value();
    ASSERT_TRUE(
        CertificateAuthority::initialize(data(), *other, files(), CaInitOptions(), ctx_).ok());
  }
  std::filesystem::remove(dir_ / "ca" / "server-ca.pem");
  std::filesystem::remove(dir_ / "ca" / "server-ca-key.pem");
  ASSERT_TRUE(store_
                  ->record_ca_init({{"trust_domain", "tether.internal"}},
                                   {kNow, "old", "ca.init", "ca", "", ""})
                  .ok());

  auto opened = CertificateAuthority::open(data(), *store_, files()(data() + "/ca"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->server_ca(), nullptr) << "opening alone makes nothing";
  auto connector = opened->issuer(IssuerRole::connector_ca, ctx_);
  ASSERT_TRUE(connector.ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ca" / "server-ca.pem"));

  auto server = opened->issuer(IssuerRole::server_ca, ctx_);
  ASSERT_TRUE(server.ok()) << server.error().message;
  ASSERT_NE(opened->server_ca(), nullptr);
  EXPECT_EQ(x509::common_name(X509_get_subject_name(opened->server_ca())), "tether Server CA");
  EXPECT_EQ(X509_verify(opened->server_ca(), X509_get0_pubkey(opened->root())), 1);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "ca" / "server-ca.pem"));
  EXPECT_EQ(audit_count("ca.server_ca.create"), 1u);
  EXPECT_EQ(*store_->get_setting("server_ca_sha256"),
            x509::fingerprint_sha256(opened->server_ca()));

  // The next command finds it and makes no other.
  auto reopened = CertificateAuthority::open(data(), *store_, files()(data() + "/ca"));
  ASSERT_TRUE(reopened->issuer(IssuerRole::server_ca, ctx_).ok());
  EXPECT_EQ(x509::fingerprint_sha256(reopened->server_ca()),
            x509::fingerprint_sha256(opened->server_ca()));
  EXPECT_EQ(audit_count("ca.server_ca.create"), 1u);
}

TEST_F(CertificateAuthorityTest, TheServerCaIsNotMadeWithoutTheRootKey) {
  {
    auto other = std::move(store::SqliteStore::open((dir_ / "scratch.db").string())).value();
    ASSERT_TRUE(
        CertificateAuthority::initialize(data(), *other, files(), CaInitOptions(), ctx_).ok());
  }
  std::filesystem::remove(dir_ / "ca" / "server-ca.pem");
  std::filesystem::remove(dir_ / "ca" / "root-key.pem");  // kept offline
  ASSERT_TRUE(store_
                  ->record_ca_init({{"trust_domain", "tether.internal"}},
                                   {kNow, "old", "ca.init", "ca", "", ""})
                  .ok());
  auto opened = CertificateAuthority::open(data(), *store_, files()(data() + "/ca"));
  auto server = opened->issuer(IssuerRole::server_ca, ctx_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code, Errc::not_found);
  EXPECT_NE(server.error().message.find("making it takes the root key"), std::string::npos);
  EXPECT_EQ(audit_count("ca.server_ca.create"), 0u);
}

TEST_F(CertificateAuthorityTest, WorksThroughAKeyStoreWithNoFiles) {
  auto memory = std::make_shared<MemoryKeyStore>();
  CertificateAuthority::KeyStoreAt keys_at = [memory](const std::string&) {
    return std::make_unique<SharedKeys>(memory);
  };
  auto ca = CertificateAuthority::initialize(data(), *store_, keys_at, CaInitOptions(), ctx_);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  EXPECT_EQ(memory->keys_.size(), 3u);
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "ca")) {
    EXPECT_EQ(entry.path().filename().string().find("-key.pem"), std::string::npos)
        << entry.path() << ": no key may be a file";
  }
  auto issued = issue_named(*store_, *ca, ctx_, named(IdentityKind::gateway, "gw-1", {"gw.test"}));
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(X509_verify(issued->certificate.cert.get(), X509_get0_pubkey(ca->server_ca())), 1);
}

TEST(FileKeyStore, KeysAreEncryptedFilesOfMode0600AndNeverReplaced) {
  auto dir = std::filesystem::temp_directory_path() /
             ("tether-keystore-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  FileKeyStore keys(dir.string(), "a passphrase");
  auto made = keys.create("root", x509::KeyType::ecdsa_p256);
  ASSERT_TRUE(made.ok()) << made.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "root-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string pem = std::move(fs::read_file((dir / "root-key.pem").string(), "key")).value();
  EXPECT_NE(pem.find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
  auto loaded = keys.load("root");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(EVP_PKEY_eq(loaded->get(), made->get()), 1);
  auto again = keys.create("root", x509::KeyType::ecdsa_p256);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  FileKeyStore wrong(dir.string(), "another passphrase");
  EXPECT_FALSE(wrong.load("root").ok());
  auto missing = keys.load("server-ca");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  ASSERT_TRUE(keys.remove("root").ok());
  EXPECT_FALSE(*keys.contains("root"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tether::pki

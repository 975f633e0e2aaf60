#include "pki/certificate_authority.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "common/fs.h"
#include "x509/inspect.h"
#include "x509/openssl_error.h"
#include "x509/pem.h"

namespace tether::pki {

namespace {

constexpr unsigned kPublicMode = 0644;
constexpr unsigned kCaDirMode = 0700;

// An exclusive lock on a file in the CA directory for as long as it lives, so two commands
// that both find the Server CA missing do not both make one.
class DirectoryLock {
 public:
  static Result<DirectoryLock> acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return make_error(Errc::io_error,
                        "cannot open lock file '" + path + "': " + std::strerror(errno));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return make_error(Errc::io_error, "cannot lock '" + path + "': " + std::strerror(err));
    }
    return DirectoryLock(fd);
  }
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

Result<x509::X509Ptr> sign_intermediate(IssuerRole role, EVP_PKEY* key, X509* root,
                                        EVP_PKEY* root_key, int64_t now) {
  TETHER_ASSIGN_OR_RETURN(auto serial, x509::random_serial());
  return x509::build_certificate(issuing_spec(role, now), key, serial.get(), root, root_key);
}

Status check_key_matches(X509* cert, EVP_PKEY* key, std::string_view label) {
  if (X509_check_private_key(cert, key) == 1) return ok_status();
  x509::drain_openssl_errors();
  return make_error(Errc::crypto_error, "CA key '" + std::string(label) +
                                            "' does not match its certificate (" +
                                            x509::subject_string(cert) + ")");
}

// Writes a certificate so that it appears whole or not at all (a new name, then a rename).
Status write_certificate_atomically(const std::string& path, X509* cert) {
  std::string tmp = path + ".partial-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  Status written = fs::write_new_file(tmp, x509::to_pem(cert), kPublicMode);
  if (written) written = fs::rename_path(tmp, path);
  if (!written) fs::remove_all(tmp);
  return written;
}

}  // namespace

Result<CaInitOptions> CaInitOptions::create(x509::KeyType key_type, std::string trust_domain) {
  TETHER_TRY(verify::validate_trust_domain(trust_domain));
  CaInitOptions options;
  options.key_type_ = key_type;
  options.trust_domain_ = std::move(trust_domain);
  return options;
}

CertificateAuthority::CertificateAuthority(std::string data_dir, store::Store& store,
                                           std::unique_ptr<KeyStore> keys, CaCertificates certs,
                                           std::string trust_domain)
    : data_dir_(std::move(data_dir)),
      store_(&store),
      keys_(std::move(keys)),
      certs_(std::move(certs)),
      trust_domain_(std::move(trust_domain)) {}

Result<CertificateAuthority> CertificateAuthority::initialize(const std::string& data_dir,
                                                              store::Store& store,
                                                              const KeyStoreAt& keys_at,
                                                              const CaInitOptions& options,
                                                              const Context& ctx) {
  CaPaths paths = CaPaths::in(data_dir);
  if (fs::exists(paths.dir)) {
    return make_error(Errc::ca_exists, "a CA already exists in '" + paths.dir +
                                           "': refusing to overwrite it; use another --data "
                                           "directory or remove the old CA deliberately");
  }
  // A store left from another CA must not be adopted silently.
  TETHER_ASSIGN_OR_RETURN(auto recorded, store.get_setting("trust_domain"));
  if (recorded) {
    return make_error(Errc::ca_exists, "the store in '" + data_dir +
                                           "' already records a CA: refusing to pair it with a "
                                           "new one");
  }

  // Everything goes into a sibling staging directory, then is renamed into place: a crash
  // leaves either no CA or a whole one.
  std::string tmp = paths.dir + ".partial-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  CaCertificates certs;
  auto stage = [&]() -> Status {
    TETHER_TRY(fs::make_dir(tmp, kCaDirMode));
    std::unique_ptr<KeyStore> keys = keys_at(tmp);
    TETHER_ASSIGN_OR_RETURN(auto root_key, keys->create(kRootKeyLabel, options.key_type()));
    TETHER_ASSIGN_OR_RETURN(auto connector_key,
                            keys->create(kConnectorCaKeyLabel, options.key_type()));
    TETHER_ASSIGN_OR_RETURN(auto server_key, keys->create(kServerCaKeyLabel, options.key_type()));
    TETHER_ASSIGN_OR_RETURN(auto root_serial, x509::random_serial());
    TETHER_ASSIGN_OR_RETURN(
        certs.root, x509::build_certificate(root_spec(ctx.now), root_key.get(), root_serial.get(),
                                            nullptr, root_key.get()));
    TETHER_ASSIGN_OR_RETURN(certs.connector_ca,
                            sign_intermediate(IssuerRole::connector_ca, connector_key.get(),
                                              certs.root.get(), root_key.get(), ctx.now));
    TETHER_ASSIGN_OR_RETURN(certs.server_ca,
                            sign_intermediate(IssuerRole::server_ca, server_key.get(),
                                              certs.root.get(), root_key.get(), ctx.now));
    auto in_tmp = [&](const std::string& final_path) {
      return tmp + final_path.substr(paths.dir.size());
    };
    TETHER_TRY(
        fs::write_new_file(in_tmp(paths.root_cert), x509::to_pem(certs.root.get()), kPublicMode));
    TETHER_TRY(fs::write_new_file(in_tmp(paths.connector_ca_cert),
                                  x509::to_pem(certs.connector_ca.get()), kPublicMode));
    TETHER_TRY(fs::write_new_file(in_tmp(paths.server_ca_cert), x509::to_pem(certs.server_ca.get()),
                                  kPublicMode));
    TETHER_TRY(fs::sync_dir(tmp));
    TETHER_TRY(fs::rename_path(tmp, paths.dir));
    return fs::sync_dir(data_dir);
  };
  Status staged = stage();
  if (!staged) {
    fs::remove_all(tmp);
    // Another `ca init` won the race between our check and our rename: report it as such.
    if (fs::exists(paths.dir)) {
      return make_error(Errc::ca_exists, "a CA already exists in '" + paths.dir +
                                             "': another 'tether ca init' created it first");
    }
    return std::move(staged).error();
  }

  std::string key_type(x509::key_type_name(options.key_type()));
  std::string root_sha256 = x509::fingerprint_sha256(certs.root.get());
  std::string connector_sha256 = x509::fingerprint_sha256(certs.connector_ca.get());
  std::string server_sha256 = x509::fingerprint_sha256(certs.server_ca.get());
  std::unique_ptr<KeyStore> keys = keys_at(paths.dir);
  std::string detail = boost::json::serialize(boost::json::object{
      {"key_type", key_type},
      {"trust_domain", options.trust_domain()},
      {"root_sha256", root_sha256},
      {"issuing_sha256", connector_sha256},
      {"server_ca_sha256", server_sha256},
      {"key_store", keys->description()},
  });
  TETHER_TRY(store.record_ca_init(
      {{"trust_domain", options.trust_domain()},
       {"ca_key_type", key_type},
       {"root_sha256", root_sha256},
       {"issuing_sha256", connector_sha256},
       {"server_ca_sha256", server_sha256}},
      {ctx.now, ctx.actor, "ca.init", "ca", x509::serial_hex(certs.connector_ca.get()), detail}));
  return CertificateAuthority(data_dir, store, std::move(keys), std::move(certs),
                              options.trust_domain());
}

Result<CertificateAuthority> CertificateAuthority::open(const std::string& data_dir,
                                                        store::Store& store,
                                                        std::unique_ptr<KeyStore> keys) {
  TETHER_ASSIGN_OR_RETURN(auto trust_domain, store.get_setting("trust_domain"));
  if (!trust_domain) {
    return make_error(Errc::ca_missing,
                      "the store in '" + data_dir + "' has no CA record: run 'tether ca init'");
  }
  TETHER_ASSIGN_OR_RETURN(auto certs, load_ca_certificates(data_dir));
  return CertificateAuthority(data_dir, store, std::move(keys), std::move(certs), *trust_domain);
}

Result<std::unique_ptr<Authority>> CertificateAuthority::load_issuer(IssuerRole role) const {
  bool server = role == IssuerRole::server_ca;
  X509* cert = server ? certs_.server_ca.get() : certs_.connector_ca.get();
  const char* label = server ? kServerCaKeyLabel : kConnectorCaKeyLabel;
  TETHER_ASSIGN_OR_RETURN(auto key, keys_->load(label));
  TETHER_TRY(check_key_matches(cert, key.get(), label));
  return std::make_unique<Authority>(x509::up_ref(certs_.root.get()), x509::up_ref(cert),
                                     std::move(key), trust_domain_, role);
}

Result<const Authority*> CertificateAuthority::issuer(IssuerRole role, const Context& ctx) {
  std::unique_ptr<Authority>& slot =
      role == IssuerRole::server_ca ? server_issuer_ : connector_issuer_;
  if (slot) return slot.get();
  if (role == IssuerRole::server_ca && !certs_.server_ca) TETHER_TRY(make_server_ca(ctx));
  TETHER_ASSIGN_OR_RETURN(slot, load_issuer(role));
  return slot.get();
}

Status CertificateAuthority::make_server_ca(const Context& ctx) {
  CaPaths paths = CaPaths::in(data_dir_);
  TETHER_ASSIGN_OR_RETURN(auto lock, DirectoryLock::acquire(paths.dir + "/.server-ca.lock"));
  // Another command may have made it while we waited for the lock.
  if (fs::exists(paths.server_ca_cert)) {
    TETHER_ASSIGN_OR_RETURN(certs_.server_ca,
                            load_certificate_file(paths.server_ca_cert, "Server CA certificate"));
    return ok_status();
  }
  auto root_key = keys_->load(kRootKeyLabel);
  if (!root_key) {
    return make_error(root_key.error().code,
                      "this data directory has no tether Server CA yet, and making it takes the "
                      "root key: " +
                          root_key.error().message);
  }
  TETHER_TRY(check_key_matches(certs_.root.get(), root_key->get(), kRootKeyLabel));
  TETHER_ASSIGN_OR_RETURN(x509::KeyType key_type, x509::classify_key(root_key->get()));
  // No certificate exists for a server CA key left by an interrupted run: it is safe to drop.
  TETHER_TRY(keys_->remove(kServerCaKeyLabel));
  TETHER_ASSIGN_OR_RETURN(auto key, keys_->create(kServerCaKeyLabel, key_type));
  TETHER_ASSIGN_OR_RETURN(auto cert,
                          sign_intermediate(IssuerRole::server_ca, key.get(), certs_.root.get(),
                                            root_key->get(), ctx.now));
  TETHER_TRY(write_certificate_atomically(paths.server_ca_cert, cert.get()));
  TETHER_TRY(fs::sync_dir(paths.dir));
  std::string sha256 = x509::fingerprint_sha256(cert.get());
  std::string detail = boost::json::serialize(boost::json::object{
      {"server_ca_sha256", sha256},
      {"key_type", std::string(x509::key_type_name(key_type))},
      {"why", "the data directory predates the tether Server CA: made on first use"},
  });
  TETHER_TRY(store_->record_ca_init(
      {{"server_ca_sha256", sha256}},
      {ctx.now, ctx.actor, "ca.server_ca.create", "ca", x509::serial_hex(cert.get()), detail}));
  certs_.server_ca = std::move(cert);
  return ok_status();
}

}  // namespace tether::pki

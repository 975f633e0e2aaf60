#include "pki/ca_files.h"

#include <unistd.h>

#include "common/fs.h"
#include "pki/profile.h"
#include "x509/inspect.h"
#include "x509/openssl_error.h"
#include "x509/pem.h"

namespace tether::pki {

namespace {
constexpr unsigned kPrivateMode = 0600;
constexpr unsigned kPublicMode = 0644;
constexpr unsigned kCaDirMode = 0700;

Result<x509::X509Ptr> load_cert(const std::string& path, std::string_view what) {
  TETHER_ASSIGN_OR_RETURN(std::string pem, fs::read_file(path, what));
  auto cert = x509::parse_certificate(pem);
  if (!cert) {
    return make_error(cert.error().code,
                      std::string(what) + " '" + path + "': " + cert.error().message);
  }
  return std::move(cert).value();
}
}  // namespace

CaPaths CaPaths::in(const std::string& data_dir) {
  std::string dir = data_dir + "/ca";
  return CaPaths{dir, dir + "/root.pem", dir + "/root-key.pem", dir + "/issuing.pem",
                 dir + "/issuing-key.pem"};
}

bool ca_exists(const std::string& data_dir) {
  return fs::exists(CaPaths::in(data_dir).dir);
}

Result<CaCertificates> init_ca(const std::string& data_dir, const CaInitOptions& options) {
  CaPaths paths = CaPaths::in(data_dir);
  if (fs::exists(paths.dir)) {
    return make_error(Errc::ca_exists, "a CA already exists in '" + paths.dir +
                                           "': refusing to overwrite it; use another --data "
                                           "directory or remove the old CA deliberately");
  }
  TETHER_TRY(verify::validate_trust_domain(options.trust_domain));

  TETHER_ASSIGN_OR_RETURN(auto root_key, x509::generate_key(options.key_type));
  TETHER_ASSIGN_OR_RETURN(auto issuing_key, x509::generate_key(options.key_type));
  TETHER_ASSIGN_OR_RETURN(auto root_serial, x509::random_serial());
  TETHER_ASSIGN_OR_RETURN(auto issuing_serial, x509::random_serial());
  TETHER_ASSIGN_OR_RETURN(
      auto root, x509::build_certificate(root_spec(options.now), root_key.get(), root_serial.get(),
                                         nullptr, root_key.get()));
  TETHER_ASSIGN_OR_RETURN(
      auto issuing, x509::build_certificate(issuing_spec(options.now), issuing_key.get(),
                                            issuing_serial.get(), root.get(), root_key.get()));
  TETHER_ASSIGN_OR_RETURN(std::string root_key_pem,
                          x509::private_key_to_pem(root_key.get(), options.passphrase));
  TETHER_ASSIGN_OR_RETURN(std::string issuing_key_pem,
                          x509::private_key_to_pem(issuing_key.get(), options.passphrase));

  // Write everything into a sibling temporary directory, then rename it into place: a crash
  // leaves either no CA or a whole one.
  std::string tmp = paths.dir + ".partial-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  auto stage = [&]() -> Status {
    TETHER_TRY(fs::make_dir(tmp, kCaDirMode));
    TETHER_TRY(fs::write_new_file(tmp + "/root.pem", x509::to_pem(root.get()), kPublicMode));
    TETHER_TRY(fs::write_new_file(tmp + "/root-key.pem", root_key_pem, kPrivateMode));
    TETHER_TRY(fs::write_new_file(tmp + "/issuing.pem", x509::to_pem(issuing.get()), kPublicMode));
    TETHER_TRY(fs::write_new_file(tmp + "/issuing-key.pem", issuing_key_pem, kPrivateMode));
    TETHER_TRY(fs::sync_dir(tmp));
    TETHER_TRY(fs::rename_path(tmp, paths.dir));
    return fs::sync_dir(data_dir);
  };
  Status staged_ok = stage();
  OPENSSL_cleanse(root_key_pem.data(), root_key_pem.size());
  OPENSSL_cleanse(issuing_key_pem.data(), issuing_key_pem.size());
  if (!staged_ok) {
    fs::remove_all(tmp);
    // Another `ca init` won the race between our check and our rename: report it as such.
    if (fs::exists(paths.dir)) {
      return make_error(Errc::ca_exists, "a CA already exists in '" + paths.dir +
                                             "': another 'tether ca init' created it first");
    }
    return std::move(staged_ok).error();
  }
  return CaCertificates{std::move(root), std::move(issuing)};
}

Result<CaCertificates> load_ca_certificates(const std::string& data_dir) {
  CaPaths paths = CaPaths::in(data_dir);
  if (!fs::exists(paths.dir)) {
    return make_error(Errc::ca_missing, "no CA in '" + data_dir + "': run 'tether ca init --data " +
                                            data_dir + "' first");
  }
  TETHER_ASSIGN_OR_RETURN(auto root, load_cert(paths.root_cert, "root certificate"));
  TETHER_ASSIGN_OR_RETURN(auto issuing, load_cert(paths.issuing_cert, "issuing CA certificate"));
  return CaCertificates{std::move(root), std::move(issuing)};
}

Result<Authority> load_authority(const std::string& data_dir, const std::string& passphrase,
                                 const std::string& trust_domain) {
  TETHER_ASSIGN_OR_RETURN(auto certs, load_ca_certificates(data_dir));
  CaPaths paths = CaPaths::in(data_dir);
  TETHER_ASSIGN_OR_RETURN(std::string key_pem, fs::read_file(paths.issuing_key, "issuing CA key"));
  auto key =
      x509::parse_private_key(key_pem, passphrase, "issuing CA key '" + paths.issuing_key + "'");
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  if (!key) return std::move(key).error();
  if (X509_check_private_key(certs.issuing.get(), key->get()) != 1) {
    x509::drain_openssl_errors();
    return make_error(Errc::crypto_error, "issuing CA key '" + paths.issuing_key +
                                              "' does not match the issuing certificate");
  }
  return Authority(std::move(certs.root), std::move(certs.issuing), std::move(key).value(),
                   trust_domain);
}

}  // namespace tether::pki

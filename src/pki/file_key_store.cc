#include "pki/file_key_store.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.h"
#include "x509/pem.h"

namespace tether::pki {

namespace {
constexpr unsigned kPrivateMode = 0600;

std::string describe(std::string_view label, const std::string& path) {
  return "CA key '" + std::string(label) + "' ('" + path + "')";
}
}  // namespace

FileKeyStore::FileKeyStore(std::string dir, std::string passphrase)
    : dir_(std::move(dir)), passphrase_(std::move(passphrase)) {}

FileKeyStore::~FileKeyStore() {
  OPENSSL_cleanse(passphrase_.data(), passphrase_.size());
}

std::string FileKeyStore::path_of(std::string_view label) const {
  return dir_ + "/" + std::string(label) + "-key.pem";
}

Result<x509::PkeyPtr> FileKeyStore::create(std::string_view label, x509::KeyType type) {
  std::string path = path_of(label);
  if (fs::exists(path)) {
    return make_error(Errc::already_exists,
                      describe(label, path) + " already exists: refusing to replace a CA key");
  }
  TETHER_ASSIGN_OR_RETURN(auto key, x509::generate_key(type));
  TETHER_ASSIGN_OR_RETURN(std::string pem, x509::private_key_to_pem(key.get(), passphrase_));
  Status written = fs::write_new_file(path, pem, kPrivateMode);
  OPENSSL_cleanse(pem.data(), pem.size());
  TETHER_TRY(written);
  return key;
}

Result<x509::PkeyPtr> FileKeyStore::load(std::string_view label) const {
  std::string path = path_of(label);
  if (!fs::exists(path)) {
    return make_error(Errc::not_found, describe(label, path) +
                                           " is not there: it may be kept offline; bring it back "
                                           "to '" +
                                           path + "' for this command");
  }
  TETHER_ASSIGN_OR_RETURN(std::string pem, fs::read_file(path, "CA key"));
  auto key = x509::parse_private_key(pem, passphrase_, describe(label, path));
  OPENSSL_cleanse(pem.data(), pem.size());
  return key;
}

Result<bool> FileKeyStore::contains(std::string_view label) const {
  return fs::exists(path_of(label));
}

std::string FileKeyStore::description() const {
  return passphrase_.empty() ? "unencrypted PKCS#8 files" : "encrypted PKCS#8 files";
}

Status FileKeyStore::remove(std::string_view label) {
  std::string path = path_of(label);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return make_error(Errc::io_error,
                      "cannot remove " + describe(label, path) + ": " + std::strerror(errno));
  }
  return ok_status();
}

std::function<std::unique_ptr<KeyStore>(const std::string& ca_dir)> file_key_stores(
    std::string passphrase_text) {
  struct Secret {
    std::string text;
    ~Secret() { OPENSSL_cleanse(text.data(), text.size()); }
  };
  auto passphrase = std::make_shared<Secret>(Secret{std::move(passphrase_text)});
  return [passphrase](const std::string& ca_dir) -> std::unique_ptr<KeyStore> {
    return std::make_unique<FileKeyStore>(ca_dir, passphrase->text);
  };
}

}  // namespace tether::pki

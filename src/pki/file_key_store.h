// CA keys as PKCS#8 files, <dir>/<label>-key.pem, mode 0600, encrypted with a passphrase (or,
// for throwaway setups only, unencrypted when the passphrase is empty).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pki/key_store.h"

namespace tether::pki {

class FileKeyStore final : public KeyStore {
 public:
  FileKeyStore(std::string dir, std::string passphrase);
  ~FileKeyStore() override;
  FileKeyStore(const FileKeyStore&) = delete;
  FileKeyStore& operator=(const FileKeyStore&) = delete;

  Result<x509::PkeyPtr> create(std::string_view label, x509::KeyType type) override;
  Result<x509::PkeyPtr> load(std::string_view label) const override;
  Result<bool> contains(std::string_view label) const override;
  Status remove(std::string_view label) override;
  std::string description() const override;

  std::string path_of(std::string_view label) const;

 private:
  std::string dir_;
  std::string passphrase_;
};

// Opens a FileKeyStore for a CA directory (CertificateAuthority::KeyStoreAt's shape), every one
// with `passphrase`, which is kept once for all of them and wiped when the last is gone.
std::function<std::unique_ptr<KeyStore>(const std::string& ca_dir)> file_key_stores(
    std::string passphrase);

}  // namespace tether::pki

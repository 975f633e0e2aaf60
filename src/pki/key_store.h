// Where the CA keeps its private keys. The CA names each key by a label ("root", "issuing",
// "server-ca") and never by where it lives: encrypted PKCS#8 files (file_key_store.h) today, a
// PKCS#11 token later, where a key is made on the token and never leaves it. So the interface
// makes keys rather than accepting them, and hands out signing keys rather than key bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "x509/handles.h"
#include "x509/key.h"

namespace tether::pki {

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // Makes a new key of `type` under `label` and keeps it. Refuses (Errc::already_exists) when
  // the label is taken: a CA key is never replaced by accident.
  virtual Result<x509::PkeyPtr> create(std::string_view label, x509::KeyType type) = 0;
  // The key under `label`, ready to sign with. Errc::not_found when there is none.
  virtual Result<x509::PkeyPtr> load(std::string_view label) const = 0;
  virtual Result<bool> contains(std::string_view label) const = 0;
  // Forgets the key under `label`; only for a key no certificate was ever made for (one left by
  // an interrupted creation). No error when there is none.
  virtual Status remove(std::string_view label) = 0;
  // How the keys are kept, for the audit log and `ca show` ("encrypted PKCS#8 files").
  virtual std::string description() const = 0;
};

}  // namespace tether::pki

// The CA's files in the data directory: <data>/ca/{root,issuing}{.pem,-key.pem}.
#pragma once

#include <cstdint>
#include <string>

#include "pki/authority.h"
#include "x509/key.h"

namespace tether::pki {

struct CaPaths {
  std::string dir;
  std::string root_cert;
  std::string root_key;
  std::string issuing_cert;
  std::string issuing_key;

  static CaPaths in(const std::string& data_dir);
};

struct CaInitOptions {
  x509::KeyType key_type = x509::KeyType::ecdsa_p256;
  std::string trust_domain = "tether.internal";
  // Empty only with an explicit --insecure-no-passphrase; keys are then unencrypted PKCS#8.
  std::string passphrase;
  int64_t now = 0;
};

struct CaCertificates {
  x509::X509Ptr root;
  x509::X509Ptr issuing;
};

// Makes the root and the issuing intermediate and writes them, keys mode 0600, into <data>/ca.
// Refuses if a CA already exists. The files appear at once or not at all (written in a temporary
// directory, synced, then renamed into place).
Result<CaCertificates> init_ca(const std::string& data_dir, const CaInitOptions& options);

bool ca_exists(const std::string& data_dir);
Result<CaCertificates> load_ca_certificates(const std::string& data_dir);
// Loads the certificates and the issuing key (decrypting it with `passphrase`).
Result<Authority> load_authority(const std::string& data_dir, const std::string& passphrase,
                                 const std::string& trust_domain);

}  // namespace tether::pki

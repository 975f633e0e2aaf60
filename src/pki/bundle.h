// Connector bundles as the seed product ships them: certs/connector.pem (leaf, then its
// intermediate), certs/connector-key.pem (0600) and certs/ca.pem (the root), as a directory,
// a .tar.gz, or PKCS#12.
#pragma once

#include <optional>
#include <string>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::pki {

enum class BundleFormat { directory, tar_gz, pkcs12 };

struct BundleTarget {
  std::string path;
  BundleFormat format = BundleFormat::directory;
};

// Works out the format from the name and checks the destination can be written without
// replacing anything (directory absent or empty; file absent; parent present). Called before
// any certificate is issued, so a bad --out changes nothing.
Result<BundleTarget> plan_bundle(const std::string& out, bool has_private_key,
                                 bool has_p12_passphrase);

struct BundleContents {
  X509* leaf = nullptr;
  X509* issuing = nullptr;
  X509* root = nullptr;
  EVP_PKEY* private_key = nullptr;  // null in CSR mode
  std::string friendly_name;        // PKCS#12 only
  std::string p12_passphrase;       // PKCS#12 only
};

Status write_bundle(const BundleTarget& target, const BundleContents& contents);

}  // namespace tether::pki

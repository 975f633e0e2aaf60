// Connector bundles as the seed product ships them: certs/connector.pem (leaf, then its
// intermediate), certs/connector-key.pem (0600) and certs/ca.pem (the root), as a directory,
// a .tar.gz or .zip (everything under one <tenant>-<connector>/ folder), or PKCS#12.
#pragma once

#include <optional>
#include <string>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::pki {

enum class BundleFormat { directory, tar_gz, zip, pkcs12 };

struct BundleTarget {
  std::string path;
  BundleFormat format = BundleFormat::directory;
  // An existing bundle at `path` is replaced whole, atomically (--force).
  bool replace = false;
};

// Works out the format from the name and checks the destination can be written without
// replacing anything (directory absent or empty; file absent; parent present), unless
// `replace_existing`: then an existing bundle of the same format may be there (a directory only
// if it holds certs/connector.pem, so no other directory is ever replaced). Called before any
// certificate is issued, so a bad --out changes nothing.
Result<BundleTarget> plan_bundle(const std::string& out, bool has_private_key,
                                 bool has_p12_passphrase, bool replace_existing = false);

struct BundleContents {
  X509* leaf = nullptr;
  X509* issuing = nullptr;
  X509* root = nullptr;
  EVP_PKEY* private_key = nullptr;  // null in CSR mode
  std::string friendly_name;        // PKCS#12 only
  std::string archive_folder;       // .tar.gz only: the top-level folder, "<tenant>-<connector>"
  std::string p12_passphrase;       // PKCS#12 only
};

// A replacement is written beside the old bundle, synced, then swapped in by one rename (for a
// directory, an atomic exchange), so a kill at any moment leaves the old bundle or the new one
// at `path`, never a mix or a half.
Status write_bundle(const BundleTarget& target, const BundleContents& contents);

// The bundle as the bytes of one file (.tar.gz, .zip or PKCS#12), e.g. for a download. The
// caller wipes them (OPENSSL_cleanse) once sent: they hold the private key.
Result<std::string> bundle_bytes(BundleFormat format, const BundleContents& contents);

}  // namespace tether::pki

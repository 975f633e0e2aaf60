// A gateway, service or admin certificate as files in one directory: <name>.pem (the leaf, then
// its issuing intermediate, so a server sends the whole chain), <name>-key.pem (mode 0600; not
// in CSR mode) and ca.pem (the root: the one trust anchor).
#pragma once

#include <string>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::pki {

struct CertFilesTarget {
  std::string dir;
  std::string chain;  // <dir>/<name>.pem
  std::string key;    // <dir>/<name>-key.pem
  std::string root;   // <dir>/ca.pem
};

// Checks before anything is issued that the files can be written without replacing any: the
// leaf and key files must not exist; an existing ca.pem must be this root already (so several
// certificates may share a directory). The directory and its parents are made when writing.
Result<CertFilesTarget> plan_cert_files(const std::string& out, const std::string& name,
                                        X509* root);

struct CertFilesContents {
  X509* leaf = nullptr;
  X509* issuing = nullptr;
  X509* root = nullptr;
  EVP_PKEY* private_key = nullptr;  // null in CSR mode
};

Status write_cert_files(const CertFilesTarget& target, const CertFilesContents& contents);

}  // namespace tether::pki

#include "pki/cert_files.h"

#include <openssl/crypto.h>

#include <filesystem>

#include "common/fs.h"
#include "x509/pem.h"

namespace tether::pki {

namespace {
constexpr unsigned kPrivateMode = 0600;
constexpr unsigned kPublicMode = 0644;
}  // namespace

Result<CertFilesTarget> plan_cert_files(const std::string& out, const std::string& name,
                                        X509* root) {
  if (out.empty()) return make_error(Errc::invalid_argument, "--out DIR is required");
  std::string dir = out;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  CertFilesTarget target{dir, dir + "/" + name + ".pem", dir + "/" + name + "-key.pem",
                         dir + "/ca.pem"};
  std::error_code ec;
  if (fs::exists(dir) && !std::filesystem::is_directory(dir, ec)) {
    return make_error(Errc::already_exists,
                      "--out '" + out + "' exists and is not a directory: choose a directory");
  }
  for (const auto& path : {target.chain, target.key}) {
    if (fs::exists(path)) {
      return make_error(Errc::already_exists, "'" + path +
                                                  "' already exists: choose another --out "
                                                  "directory or move the old files away");
    }
  }
  if (fs::exists(target.root)) {
    TETHER_ASSIGN_OR_RETURN(std::string pem, fs::read_file(target.root, "root certificate"));
    if (pem != x509::to_pem(root)) {
      return make_error(Errc::already_exists,
                        "'" + target.root +
                            "' already exists and holds another certificate than this CA's "
                            "root: choose another --out directory");
    }
  }
  return target;
}

Status write_cert_files(const CertFilesTarget& target, const CertFilesContents& c) {
  std::error_code ec;
  std::filesystem::create_directories(target.dir, ec);
  if (ec) {
    return make_error(Errc::io_error,
                      "cannot create directory '" + target.dir + "': " + ec.message());
  }
  TETHER_TRY(fs::write_new_file(target.chain, x509::to_pem(c.leaf) + x509::to_pem(c.issuing),
                                kPublicMode));
  if (c.private_key) {
    TETHER_ASSIGN_OR_RETURN(std::string key, x509::private_key_to_pem(c.private_key, ""));
    Status written = fs::write_new_file(target.key, key, kPrivateMode);
    OPENSSL_cleanse(key.data(), key.size());
    TETHER_TRY(written);
  }
  if (!fs::exists(target.root)) {
    TETHER_TRY(fs::write_new_file(target.root, x509::to_pem(c.root), kPublicMode));
  }
  return fs::sync_dir(target.dir);
}

}  // namespace tether::pki

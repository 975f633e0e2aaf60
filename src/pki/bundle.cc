#include "pki/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "common/archive_handles.h"
#include "common/fs.h"
#include "x509/openssl_error.h"
#include "x509/pem.h"

namespace tether::pki {

namespace {

constexpr unsigned kPrivateMode = 0600;
constexpr unsigned kPublicMode = 0644;
constexpr unsigned kDirMode = 0755;
constexpr unsigned kCertsDirMode = 0700;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct File {
  std::string name;
  std::string data;
  unsigned mode;
};

Status write_tar_gz(const std::string& path, const std::string& folder,
                    const std::vector<File>& files) {
  // The archive holds a private key, so the file itself is created 0600.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateMode);
  if (fd < 0)
    return make_error(Errc::io_error, "cannot create '" + path + "': " + std::strerror(errno));
  ArchiveWriter a(archive_write_new());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_format_pax_restricted(a.get());
  auto fail = [&](std::string_view what) {
    std::string msg =
        "cannot write '" + path + "': " + std::string(what) + ": " +
        (archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error");
    ::close(fd);
    ::unlink(path.c_str());
    return make_error(Errc::io_error, msg);
  };
  if (archive_write_open_fd(a.get(), fd) != ARCHIVE_OK) return fail("open");
  time_t now = ::time(nullptr);
  auto add = [&](const std::string& name, const std::string& data, unsigned mode, bool dir) {
    ArchiveEntryPtr entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), mode);
    archive_entry_set_size(entry.get(), dir ? 0 : static_cast<la_int64_t>(data.size()));
    archive_entry_set_mtime(entry.get(), now, 0);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) return false;
    if (!dir && archive_write_data(a.get(), data.data(), data.size()) !=
                    static_cast<la_ssize_t>(data.size())) {
      return false;
    }
    return true;
  };
  // One top-level folder, so unpacking never scatters certs/ into whatever directory it is in.
  std::string prefix = folder.empty() ? "" : folder + "/";
  if (!folder.empty() && !add(folder, "", kDirMode, true)) return fail(prefix);
  if (!add(prefix + "certs", "", kCertsDirMode, true)) return fail(prefix + "certs/");
  for (const auto& f : files) {
    if (!add(prefix + f.name, f.data, f.mode, false)) return fail(prefix + f.name);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("close");
  // Close on every path; a failed fsync or close means the archive may be incomplete, so it
  // is removed rather than left looking like a bundle.
  int err = ::fsync(fd) != 0 ? errno : 0;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    return make_error(Errc::io_error, "cannot sync '" + path + "': " + std::strerror(err));
  }
  return ok_status();
}

Status write_pkcs12(const std::string& path, const BundleContents& c) {
  x509::X509StackPtr cas(sk_X509_new_null());
  for (X509* cert : {c.issuing, c.root}) {
    x509::X509Ptr ref = x509::up_ref(cert);
    if (sk_X509_push(cas.get(), ref.get()) > 0) ref.release();
  }
  // AES-256-CBC with PBKDF2 and a SHA-256 MAC: the OpenSSL 3 defaults, readable by current
  // Python, Java, Windows and macOS.
  x509::Pkcs12Ptr p12(PKCS12_create(c.p12_passphrase.c_str(), c.friendly_name.c_str(),
                                    c.private_key, c.leaf, cas.get(), NID_aes_256_cbc,
                                    NID_aes_256_cbc, 0, 0, 0));
  if (!p12) return x509::openssl_error(Errc::crypto_error, "cannot build PKCS#12 bundle");
  unsigned char* raw = nullptr;
  int len = i2d_PKCS12(p12.get(), &raw);
  x509::OpensslBytes der(raw);
  if (len <= 0) return x509::openssl_error(Errc::crypto_error, "cannot encode PKCS#12 bundle");
  std::string data(reinterpret_cast<char*>(der.get()), static_cast<size_t>(len));
  return fs::write_new_file(path, data, kPrivateMode);
}

// Where a replacement is written before it is swapped in: beside the bundle, in the same
// directory (so the rename stays within one file system), named for this process.
std::string staging_path(const std::string& path) {
  std::filesystem::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".new-" + std::to_string(::getpid())))
      .string();
}

std::string parent_dir(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

Status write_bundle_at(const std::string& path, BundleFormat format, const BundleContents& c) {
  std::string chain = x509::to_pem(c.leaf) + x509::to_pem(c.issuing);
  std::string root = x509::to_pem(c.root);
  std::string key;
  if (c.private_key) {
    TETHER_ASSIGN_OR_RETURN(key, x509::private_key_to_pem(c.private_key, ""));
  }
  Status written = ok_status();
  switch (format) {
    case BundleFormat::directory: {
      written = [&]() -> Status {
        if (!fs::exists(path)) TETHER_TRY(fs::make_dir(path, kDirMode));
        std::string certs = path + "/certs";
        TETHER_TRY(fs::make_dir(certs, kCertsDirMode));
        TETHER_TRY(fs::write_new_file(certs + "/connector.pem", chain, kPublicMode));
        if (c.private_key)
          TETHER_TRY(fs::write_new_file(certs + "/connector-key.pem", key, kPrivateMode));
        TETHER_TRY(fs::write_new_file(certs + "/ca.pem", root, kPublicMode));
        TETHER_TRY(fs::sync_dir(certs));
        return fs::sync_dir(path);
      }();
      break;
    }
    case BundleFormat::tar_gz: {
      std::vector<File> files = {{"certs/connector.pem", chain, kPublicMode}};
      if (c.private_key) files.push_back({"certs/connector-key.pem", key, kPrivateMode});
      files.push_back({"certs/ca.pem", root, kPublicMode});
      written = write_tar_gz(path, c.archive_folder, files);
      for (auto& f : files) OPENSSL_cleanse(f.data.data(), f.data.size());
      break;
    }
    case BundleFormat::pkcs12:
      written = write_pkcs12(path, c);
      break;
  }
  OPENSSL_cleanse(key.data(), key.size());
  return written;
}

}  // namespace

Result<BundleTarget> plan_bundle(const std::string& out, bool has_private_key,
                                 bool has_p12_passphrase, bool replace_existing) {
  if (out.empty()) {
    return make_error(Errc::invalid_argument,
                      "--out is required: a directory, FILE.tar.gz or FILE.p12");
  }
  // "bundle/" names the directory "bundle", as a shell user means it (std::filesystem would
  // take "bundle" for the parent of an empty file name).
  std::string path = out;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  BundleTarget target{path, BundleFormat::directory};
  if (ends_with(out, ".tar.gz") || ends_with(out, ".tgz")) target.format = BundleFormat::tar_gz;
  if (ends_with(out, ".p12") || ends_with(out, ".pfx")) target.format = BundleFormat::pkcs12;

  if (target.format == BundleFormat::pkcs12 && !has_private_key) {
    return make_error(Errc::invalid_argument,
                      "--out '" + out +
                          "': a PKCS#12 bundle holds the private key, which stays "
                          "with the connector in CSR mode; use a directory or .tar.gz");
  }
  if (target.format == BundleFormat::pkcs12 && !has_p12_passphrase) {
    return make_error(Errc::invalid_argument,
                      "--out '" + out + "': a PKCS#12 bundle needs --p12-passphrase-file FILE");
  }
  std::filesystem::path p(target.path);
  std::error_code ec;
  if (target.format == BundleFormat::directory) {
    if (fs::exists(out) && !fs::is_empty_dir(out)) {
      if (!replace_existing) {
        return make_error(Errc::already_exists, "--out '" + out +
                                                    "' exists and is not an empty directory: "
                                                    "choose a new path (or --force to replace "
                                                    "the bundle in it)");
      }
      // --force replaces a bundle, never some other directory that happens to be named.
      if (!std::filesystem::is_directory(target.path, ec) ||
          !std::filesystem::is_regular_file(target.path + "/certs/connector.pem", ec)) {
        return make_error(Errc::already_exists,
                          "--out '" + out +
                              "' is not a bundle directory (no certs/connector.pem): --force "
                              "replaces only a bundle; choose a new path");
      }
      target.replace = true;
    }
  } else if (fs::exists(out)) {
    if (!replace_existing) {
      return make_error(Errc::already_exists, "--out '" + out +
                                                  "' already exists: choose a new path (or "
                                                  "--force to replace it)");
    }
    if (!std::filesystem::is_regular_file(target.path, ec)) {
      return make_error(Errc::already_exists, "--out '" + out +
                                                  "' is not a regular file: --force replaces "
                                                  "only a bundle file; choose a new path");
    }
    target.replace = true;
  }
  auto parent = p.parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    return make_error(Errc::not_found,
                      "--out '" + out + "': directory '" + parent.string() + "' does not exist");
  }
  return target;
}

Status write_bundle(const BundleTarget& target, const BundleContents& c) {
  if (!target.replace) return write_bundle_at(target.path, target.format, c);
  std::string staged = staging_path(target.path);
  fs::remove_all(staged);  // left by an earlier run of this pid that was killed
  Status written = write_bundle_at(staged, target.format, c);
  if (!written) {
    fs::remove_all(staged);
    return written;
  }
  if (target.format == BundleFormat::directory) {
    // After the exchange the old bundle sits at the staging name and is removed.
    Status swapped = fs::exchange_paths(staged, target.path);
    if (!swapped) {
      fs::remove_all(staged);
      return swapped;
    }
    TETHER_TRY(fs::sync_dir(parent_dir(target.path)));
    fs::remove_all(staged);
    return ok_status();
  }
  Status renamed = fs::rename_path(staged, target.path);
  if (!renamed) {
    fs::remove_all(staged);
    return renamed;
  }
  return fs::sync_dir(parent_dir(target.path));
}

}  // namespace tether::pki

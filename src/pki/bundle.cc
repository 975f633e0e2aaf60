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

// libarchive's write callback: appends to the std::string it was opened with.
la_ssize_t append_to_string(archive*, void* out, const void* buffer, size_t length) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// A .tar.gz or .zip of `files` under one top-level `folder`, in memory.
Result<std::string> archive_bytes(BundleFormat format, const std::string& folder,
                                  const std::vector<File>& files) {
  ArchiveWriter a(archive_write_new());
  if (format == BundleFormat::zip) {
    archive_write_set_format_zip(a.get());
  } else {
    archive_write_add_filter_gzip(a.get());
    archive_write_set_format_pax_restricted(a.get());
  }
  std::string out;
  auto fail = [&](std::string_view what) {
    std::string msg =
        "cannot build the bundle archive: " + std::string(what) + ": " +
        (archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error");
    OPENSSL_cleanse(out.data(), out.size());
    return make_error(Errc::io_error, msg);
  };
  if (archive_write_open2(a.get(), &out, nullptr, &append_to_string, nullptr, nullptr) !=
      ARCHIVE_OK) {
    return fail("open");
  }
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
  return out;
}

Result<std::string> pkcs12_bytes(const BundleContents& c) {
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
  return std::string(reinterpret_cast<char*>(der.get()), static_cast<size_t>(len));
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
    case BundleFormat::tar_gz:
    case BundleFormat::zip:
    case BundleFormat::pkcs12: {
      // The file holds a private key, so it is created 0600; write_new_file syncs it.
      auto bytes = bundle_bytes(format, c);
      if (!bytes) {
        written = std::move(bytes).error();
        break;
      }
      written = fs::write_new_file(path, *bytes, kPrivateMode);
      OPENSSL_cleanse(bytes->data(), bytes->size());
      break;
    }
  }
  OPENSSL_cleanse(key.data(), key.size());
  return written;
}

}  // namespace

Result<std::string> bundle_bytes(BundleFormat format, const BundleContents& c) {
  if (format == BundleFormat::pkcs12) return pkcs12_bytes(c);
  if (format == BundleFormat::directory) {
    return make_error(Errc::invalid_argument, "a directory bundle has no single-file form");
  }
  std::string chain = x509::to_pem(c.leaf) + x509::to_pem(c.issuing);
  std::vector<File> files = {{"certs/connector.pem", chain, kPublicMode}};
  if (c.private_key) {
    TETHER_ASSIGN_OR_RETURN(std::string key, x509::private_key_to_pem(c.private_key, ""));
    files.push_back({"certs/connector-key.pem", std::move(key), kPrivateMode});
  }
  files.push_back({"certs/ca.pem", x509::to_pem(c.root), kPublicMode});
  auto bytes = archive_bytes(format, c.archive_folder, files);
  for (auto& f : files) OPENSSL_cleanse(f.data.data(), f.data.size());
  return bytes;
}

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
  if (ends_with(out, ".zip")) target.format = BundleFormat::zip;

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

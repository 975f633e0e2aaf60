#include "cli/context.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "common/fs.h"
#include "common/hex.h"
#include "pki/ca_files.h"
#include "pki/file_key_store.h"
#include "store/open.h"
#include "x509/pem.h"

namespace tether::cli {

std::string resolve_data_dir(const GlobalOptions& options) {
  if (!options.data_dir.empty()) return options.data_dir;
  if (const char* env = std::getenv("TETHER_DATA"); env != nullptr && *env != '\0') return env;
  return "./tether-data";
}

std::string store_path(const std::string& data_dir) {
  return data_dir + "/tether.db";
}

std::unique_ptr<store::Store> open_store(const std::string& data_dir) {
  auto opened = store::open(store_path(data_dir));
  if (!opened && opened.error().code == Errc::not_found) {
    fail(Errc::ca_missing, "no tether store in '" + data_dir + "': run 'tether ca init --data " +
                               data_dir + "' first");
  }
  return must(std::move(opened));
}

std::string read_passphrase(const GlobalOptions& options) {
  if (!options.passphrase_file.empty())
    return must(fs::read_passphrase_file(options.passphrase_file));
  const char* file = std::getenv("TETHER_CA_PASSPHRASE_FILE");
  const char* value = std::getenv("TETHER_CA_PASSPHRASE");
  if (file != nullptr && *file != '\0') {
    if (value != nullptr) {
      fail(Errc::invalid_argument,
           "both TETHER_CA_PASSPHRASE_FILE and TETHER_CA_PASSPHRASE are set: unset one");
    }
    return must(fs::read_private_passphrase_file(file, "TETHER_CA_PASSPHRASE_FILE"));
  }
  if (value != nullptr) return value;
  return {};
}

pki::CertificateAuthority::KeyStoreAt file_key_store(std::string passphrase) {
  return pki::file_key_stores(std::move(passphrase));
}

pki::CertificateAuthority open_ca(const GlobalOptions& options, store::Store& store,
                                  const std::string& data_dir) {
  std::string passphrase = read_passphrase(options);
  auto keys = file_key_store(passphrase)(pki::CaPaths::in(data_dir).dir);
  OPENSSL_cleanse(passphrase.data(), passphrase.size());
  return must(pki::CertificateAuthority::open(data_dir, store, std::move(keys)));
}

x509::X509ReqPtr read_csr_file(const std::string& path) {
  std::string bytes = must(fs::read_file(path, "CSR file"));
  auto parsed = x509::parse_csr(bytes);
  if (!parsed) {
    fail(parsed.error().code,
         "cannot read CSR file '" + path + "' (--csr): " + parsed.error().message);
  }
  return std::move(parsed).value();
}

pki::Context make_context() {
  std::string user;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) {
    user = pw->pw_name;
  } else {
    user = "uid-" + std::to_string(::geteuid());
  }
  return pki::Context{"cli:" + user, static_cast<int64_t>(std::time(nullptr))};
}

void print_json(const boost::json::value& value) {
  std::cout << boost::json::serialize(value) << "\n";
}

std::string show_fingerprint(const GlobalOptions& options, const std::string& fingerprint) {
  return options.openssl_format ? hex::openssl_format(fingerprint) : fingerprint;
}

}  // namespace tether::cli

#include <CLI/CLI.hpp>

namespace tether::cli {

void add_data_option(CLI::App* sub, GlobalOptions& options) {
  sub->add_option("--data", options.data_dir,
                  "data directory (default: $TETHER_DATA or ./tether-data)");
}
void add_json_option(CLI::App* sub, GlobalOptions& options) {
  sub->add_flag("--json", options.json, "print JSON");
}
void add_passphrase_option(CLI::App* sub, GlobalOptions& options) {
  sub->add_option(
      "--passphrase-file", options.passphrase_file,
      "path of a file whose first line is the CA key passphrase (default: the file named by "
      "$TETHER_CA_PASSPHRASE_FILE, which must not be readable by group or others; else "
      "$TETHER_CA_PASSPHRASE, which holds the passphrase itself)");
}
void add_openssl_format_option(CLI::App* sub, GlobalOptions& options) {
  sub->add_flag("--openssl-format", options.openssl_format,
                "print fingerprints as OpenSSL does (AA:BB:...) instead of lowercase hex");
}

}  // namespace tether::cli

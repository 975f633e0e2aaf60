// tether ca init | show
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "cli/context.h"
#include "common/fs.h"
#include "common/time_format.h"
#include "pki/ca_files.h"
#include "pki/certificate_authority.h"
#include "store/open.h"
#include "x509/inspect.h"
#include "x509/key.h"

namespace tether::cli {

namespace {

struct InitArgs {
  std::string key_type = "ecdsa-p256";
  std::string trust_domain = "tether.internal";
  bool insecure_no_passphrase = false;
};

boost::json::object describe(const GlobalOptions& options, X509* cert) {
  return {{"subject", x509::subject_string(cert)},
          {"issuer", x509::issuer_string(cert)},
          {"serial", x509::serial_hex(cert)},
          {"not_before", format_rfc3339(x509::not_before(cert))},
          {"not_after", format_rfc3339(x509::not_after(cert))},
          {"sha256_fingerprint", show_fingerprint(options, x509::fingerprint_sha256(cert))}};
}

void print_cert(const GlobalOptions& options, std::string_view title, X509* cert) {
  std::cout << title << "\n"
            << "  subject:     " << x509::subject_string(cert) << "\n"
            << "  issuer:      " << x509::issuer_string(cert) << "\n"
            << "  serial:      " << x509::serial_hex(cert) << "\n"
            << "  not before:  " << format_rfc3339(x509::not_before(cert)) << "\n"
            << "  not after:   " << format_rfc3339(x509::not_after(cert)) << "\n"
            << "  SHA-256:     " << show_fingerprint(options, x509::fingerprint_sha256(cert))
            << "\n";
}

void run_init(const GlobalOptions& options, const InitArgs& args) {
  std::string data_dir = resolve_data_dir(options);
  auto init = must(
      pki::CaInitOptions::create(must(x509::parse_key_type(args.key_type)), args.trust_domain));
  if (args.insecure_no_passphrase && !options.passphrase_file.empty()) {
    fail(Errc::invalid_argument,
         "--insecure-no-passphrase and --passphrase-file contradict each other: use one");
  }
  std::string passphrase;
  if (!args.insecure_no_passphrase) {
    passphrase = read_passphrase(options);
    size_t length = passphrase.size();
    if (length == 0) {
      fail(Errc::invalid_argument,
           "the CA keys need a passphrase: pass --passphrase-file FILE, or set "
           "TETHER_CA_PASSPHRASE_FILE (a path) or TETHER_CA_PASSPHRASE (the passphrase) (or, "
           "for throwaway setups only, --insecure-no-passphrase)");
    }
    if (length < 8) {
      fail(Errc::invalid_argument,
           "the CA passphrase is " + std::to_string(length) + " characters long: use at least 8");
    }
  }
  if (pki::ca_exists(data_dir)) {
    fail(Errc::ca_exists, "a CA already exists in '" + data_dir +
                              "/ca': refusing to overwrite it; use another --data directory");
  }
  if (!fs::exists(data_dir)) {
    // Parents as `mkdir -p` makes them (--data ~/tether/data on a new machine); the data
    // directory itself is the CA's, 0700. Another `ca init` may create it between the check and
    // ours; a directory is all we need.
    std::filesystem::path parent = std::filesystem::path(data_dir).parent_path();
    std::error_code parent_ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, parent_ec);
    if (parent_ec) {
      fail(Errc::io_error, "cannot create the parent directories of --data '" + data_dir +
                               "': " + parent_ec.message());
    }
    Status made = fs::make_dir(data_dir, 0700);
    if (!made && !std::filesystem::is_directory(data_dir)) must(std::move(made));
  }
  // A store left from another CA must not be adopted silently.
  auto store = must(store::open(store_path(data_dir), {.create = true}));
  if (must(store->get_setting("trust_domain"))) {
    fail(Errc::ca_exists, "the store '" + store_path(data_dir) +
                              "' already records a CA: refusing to pair it with a new one");
  }
  auto keys_at = file_key_store(std::move(passphrase));
  auto ca =
      must(pki::CertificateAuthority::initialize(data_dir, *store, keys_at, init, make_context()));
  if (options.json) {
    print_json({{"data", data_dir},
                {"trust_domain", ca.trust_domain()},
                {"root", describe(options, ca.root())},
                {"issuing", describe(options, ca.connector_ca())},
                {"server_ca", describe(options, ca.server_ca())}});
    return;
  }
  std::cout << "Created the tether CA in " << data_dir << "/ca (trust domain " << ca.trust_domain()
            << ", " << args.key_type << " keys"
            << (args.insecure_no_passphrase ? ", UNENCRYPTED" : ", encrypted PKCS#8") << ")\n";
  print_cert(options, "root:", ca.root());
  print_cert(options, "issuing CA (client certificates):", ca.connector_ca());
  print_cert(options, "server CA (server certificates):", ca.server_ca());
}

void run_show(const GlobalOptions& options) {
  std::string data_dir = resolve_data_dir(options);
  auto certs = must(pki::load_ca_certificates(data_dir));
  auto store = open_store(data_dir);
  std::string trust_domain = must(store->get_setting("trust_domain")).value_or("");
  if (options.json) {
    boost::json::object out{{"data", data_dir},
                            {"trust_domain", trust_domain},
                            {"root", describe(options, certs.root.get())},
                            {"issuing", describe(options, certs.connector_ca.get())}};
    if (certs.server_ca) out["server_ca"] = describe(options, certs.server_ca.get());
    print_json(out);
    return;
  }
  std::cout << "trust domain: " << trust_domain << "\n";
  print_cert(options, "root:", certs.root.get());
  print_cert(options, "issuing CA (client certificates):", certs.connector_ca.get());
  if (certs.server_ca) {
    print_cert(options, "server CA (server certificates):", certs.server_ca.get());
  } else {
    std::cout << "server CA: not made yet (the first 'tether cert issue --kind gateway' makes "
                 "it)\n";
  }
}

}  // namespace

void add_ca_commands(CLI::App& app, GlobalOptions& options) {
  auto* ca = app.add_subcommand("ca", "the dedicated private CA");
  ca->require_subcommand(1);

  auto args = std::make_shared<InitArgs>();
  auto* init = ca->add_subcommand(
      "init", "create the root, the Connector CA (clients) and the Server CA (servers)");
  add_data_option(init, options);
  add_json_option(init, options);
  add_passphrase_option(init, options);
  add_openssl_format_option(init, options);
  init->add_option("--key-type", args->key_type,
                   "rsa2048|rsa3072|rsa4096|ecdsa-p256|ecdsa-p384 (default ecdsa-p256)");
  init->add_option("--trust-domain", args->trust_domain,
                   "SPIFFE trust domain (default tether.internal)");
  init->add_flag("--insecure-no-passphrase", args->insecure_no_passphrase,
                 "write the CA keys unencrypted (throwaway setups only)");
  init->callback([&options, args] { run_init(options, *args); });

  auto* show = ca->add_subcommand("show", "print the CA certificates");
  add_data_option(show, options);
  add_json_option(show, options);
  add_openssl_format_option(show, options);
  show->callback([&options] { run_show(options); });
}

}  // namespace tether::cli

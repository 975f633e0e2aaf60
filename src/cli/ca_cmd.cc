// tether ca init | show
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "cli/context.h"
#include "common/fs.h"
#include "common/time_format.h"
#include "pki/ca_files.h"
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
  pki::CaInitOptions init;
  init.key_type = must(x509::parse_key_type(args.key_type));
  init.trust_domain = args.trust_domain;
  must(verify::validate_trust_domain(init.trust_domain));
  if (args.insecure_no_passphrase && !options.passphrase_file.empty()) {
    fail(Errc::invalid_argument,
         "--insecure-no-passphrase and --passphrase-file contradict each other: use one");
  }
  if (!args.insecure_no_passphrase) {
    init.passphrase = read_passphrase(options);
    if (init.passphrase.empty()) {
      fail(Errc::invalid_argument,
           "the CA keys need a passphrase: pass --passphrase-file FILE, or set "
           "TETHER_CA_PASSPHRASE_FILE (a path) or TETHER_CA_PASSPHRASE (the passphrase) (or, "
           "for throwaway setups only, --insecure-no-passphrase)");
    }
    if (init.passphrase.size() < 8) {
      fail(Errc::invalid_argument, "the CA passphrase is " +
                                       std::to_string(init.passphrase.size()) +
                                       " characters long: use at least 8");
    }
  }
  if (pki::ca_exists(data_dir)) {
    fail(Errc::ca_exists, "a CA already exists in '" + data_dir +
                              "/ca': refusing to overwrite it; use another --data directory");
  }
  if (!fs::exists(data_dir)) {
    // Another `ca init` may create it between the check and ours; a directory is all we need.
    Status made = fs::make_dir(data_dir, 0700);
    if (!made && !std::filesystem::is_directory(data_dir)) must(std::move(made));
  }
  // A store left from another CA must not be adopted silently.
  auto store = must(store::open(store_path(data_dir), {.create = true}));
  if (must(store->get_setting("trust_domain"))) {
    fail(Errc::ca_exists, "the store '" + store_path(data_dir) +
                              "' already records a CA: refusing to pair it with a new one");
  }
  auto ctx = make_context();
  init.now = ctx.now;
  auto certs = must(pki::init_ca(data_dir, init));
  OPENSSL_cleanse(init.passphrase.data(), init.passphrase.size());
  std::string detail = boost::json::serialize(boost::json::object{
      {"key_type", args.key_type},
      {"trust_domain", init.trust_domain},
      {"root_sha256", x509::fingerprint_sha256(certs.root.get())},
      {"issuing_sha256", x509::fingerprint_sha256(certs.issuing.get())},
      {"encrypted_keys", !args.insecure_no_passphrase},
  });
  must(store->record_ca_init(
      {{"trust_domain", init.trust_domain},
       {"ca_key_type", args.key_type},
       {"root_sha256", x509::fingerprint_sha256(certs.root.get())},
       {"issuing_sha256", x509::fingerprint_sha256(certs.issuing.get())}},
      {ctx.now, ctx.actor, "ca.init", "ca", x509::serial_hex(certs.issuing.get()), detail}));
  if (options.json) {
    print_json({{"data", data_dir},
                {"trust_domain", init.trust_domain},
                {"root", describe(options, certs.root.get())},
                {"issuing", describe(options, certs.issuing.get())}});
    return;
  }
  std::cout << "Created the tether CA in " << data_dir << "/ca (trust domain " << init.trust_domain
            << ", " << args.key_type << " keys"
            << (args.insecure_no_passphrase ? ", UNENCRYPTED" : ", encrypted PKCS#8") << ")\n";
  print_cert(options, "root:", certs.root.get());
  print_cert(options, "issuing CA:", certs.issuing.get());
}

void run_show(const GlobalOptions& options) {
  std::string data_dir = resolve_data_dir(options);
  auto certs = must(pki::load_ca_certificates(data_dir));
  auto store = open_store(data_dir);
  std::string trust_domain = must(store->get_setting("trust_domain")).value_or("");
  if (options.json) {
    print_json({{"data", data_dir},
                {"trust_domain", trust_domain},
                {"root", describe(options, certs.root.get())},
                {"issuing", describe(options, certs.issuing.get())}});
    return;
  }
  std::cout << "trust domain: " << trust_domain << "\n";
  print_cert(options, "root:", certs.root.get());
  print_cert(options, "issuing CA:", certs.issuing.get());
}

}  // namespace

void add_ca_commands(CLI::App& app, GlobalOptions& options) {
  auto* ca = app.add_subcommand("ca", "the dedicated private CA");
  ca->require_subcommand(1);

  auto args = std::make_shared<InitArgs>();
  auto* init = ca->add_subcommand("init", "create the root and the issuing CA");
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

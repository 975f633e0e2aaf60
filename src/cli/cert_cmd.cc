// tether cert verify | check-chain | inspect (issue, renew, revoke, list: named_cert_cmd.cc)
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/context.h"
#include "cli/errors.h"
#include "common/fs.h"
#include "common/time_format.h"
#include "verify/chain_check.h"
#include "verify/identity.h"
#include "verify/limbo.h"
#include "verify/verify.h"
#include "x509/inspect.h"
#include "x509/pem.h"

namespace tether::cli {

namespace {

struct VerifyArgs {
  std::vector<std::string> trust;
  std::vector<std::string> untrusted;
  std::string purpose = "client";
  std::string at;
  std::vector<std::string> names;
  std::vector<std::string> ekus;
  std::vector<std::string> key_usages;
  std::optional<int> max_depth;
  std::vector<std::string> crls;
  bool crl_check_all = false;
  std::string leaf;
  std::string limbo;
};

std::string read_input(const std::string& path, std::string_view what) {
  auto bytes = fs::read_file(path, what);
  if (!bytes) throw CommandError{std::move(bytes).error()};
  return std::move(bytes).value();
}

// A verification outcome: one reason token and a sentence, on stdout; the exit code follows from
// the reason like every other error's (1 for a rejection on the merits, 2 for input that is not
// what it must be). The JSON form also carries the "error" object every failing --json command
// prints.
[[noreturn]] void reject(const GlobalOptions& options, const Error& error) {
  if (options.json) {
    print_json({{"result", "rejected"},
                {"reason", std::string(error.reason())},
                {"message", error.message},
                {"error", boost::json::parse(error_json(error)).at("error")}});
  } else {
    std::cout << error.reason() << ": " << error.message << "\n";
  }
  std::cout.flush();
  throw CommandError{error, true};
}

template <class T>
T accept_or_reject(const GlobalOptions& options, Result<T> result, std::string_view what) {
  if (!result) {
    Error e = std::move(result).error();
    e.message = std::string(what) + ": " + e.message;
    reject(options, e);
  }
  return std::move(result).value();
}

void run_verify(const GlobalOptions& options, const VerifyArgs& args) {
  verify::VerifyOptions vo;
  auto purpose = verify::parse_purpose(args.purpose);
  if (!purpose) throw CommandError{purpose.error()};
  vo.purpose = *purpose;
  if (!args.at.empty()) {
    auto at = parse_rfc3339(args.at);
    if (!at) throw CommandError{at.error()};
    vo.at = *at;
  }
  for (const auto& name : args.names) vo.names.push_back(verify::peer_name_from_text(name));
  vo.extended_key_usages = args.ekus;
  vo.key_usages = args.key_usages;
  vo.max_depth = args.max_depth;
  vo.crl_check_all = args.crl_check_all;
  for (const auto& path : args.trust) {
    auto certs = accept_or_reject(options, x509::parse_certificates(read_input(path, "trust file")),
                                  "trust file '" + path + "'");
    for (auto& c : certs) vo.trusted.push_back(std::move(c));
  }
  for (const auto& path : args.untrusted) {
    auto certs =
        accept_or_reject(options, x509::parse_certificates(read_input(path, "untrusted file")),
                         "untrusted file '" + path + "'");
    for (auto& c : certs) vo.untrusted.push_back(std::move(c));
  }
  for (const auto& path : args.crls) {
    auto crls = accept_or_reject(options, x509::parse_crls(read_input(path, "CRL file")),
                                 "CRL file '" + path + "'");
    for (auto& c : crls) vo.crls.push_back(std::move(c));
  }
  // The leaf file may carry its chain after it (as connector.pem does): the first certificate is
  // the leaf, the rest are untrusted intermediates.
  auto leaf_certs =
      accept_or_reject(options, x509::parse_certificates(read_input(args.leaf, "certificate")),
                       "certificate '" + args.leaf + "'");
  for (size_t i = 1; i < leaf_certs.size(); ++i) vo.untrusted.push_back(std::move(leaf_certs[i]));
  X509* leaf = leaf_certs[0].get();

  auto verified = verify::verify_chain(leaf, vo);
  if (!verified) reject(options, verified.error());

  auto identity = verify::identity_from_certificate(leaf, std::nullopt);
  std::string identity_text = identity ? identity->common_name() : "";
  auto uris = x509::uri_sans(leaf);
  if (options.json) {
    boost::json::array chain;
    for (const auto& c : verified->chain)
      chain.push_back(boost::json::string(x509::subject_string(c.get())));
    print_json({{"result", "ok"},
                {"identity", identity_text},
                {"uri_san", uris.empty() ? std::string() : uris[0]},
                {"subject", x509::subject_string(leaf)},
                {"serial", x509::serial_hex(leaf)},
                {"chain", chain}});
    return;
  }
  if (identity) {
    std::cout << "ok: " << identity_text << (uris.empty() ? "" : " (" + uris[0] + ")") << "\n";
  } else {
    std::cout << "ok: " << x509::subject_string(leaf) << " (not a tether identity)\n";
  }
}

// Batch mode: every case of an x509-limbo suite through verify_chain, results in the harness
// format on stdout, a one-line summary with the slowest case on stderr.
void run_limbo(const std::string& path) {
  auto document = verify::read_maybe_gzipped(path);
  if (!document) throw CommandError{document.error()};
  auto testcases = verify::limbo_testcases(*document);
  if (!testcases) throw CommandError{testcases.error()};
  boost::json::array results;
  results.reserve(testcases->size());
  size_t successes = 0;
  double total = 0;
  verify::LimboOutcome slowest;
  for (const boost::json::value& tc : *testcases) {
    verify::LimboOutcome out = verify::run_limbo_case(tc.as_object());
    total += out.seconds;
    if (out.seconds >= slowest.seconds) slowest = out;
    if (out.actual_result == "SUCCESS") ++successes;
    results.push_back(boost::json::object{
        {"id", out.id}, {"actual_result", out.actual_result}, {"context", out.context}});
  }
  print_json({{"version", 1}, {"harness", "tether-0.1.0"}, {"results", results}});
  std::cerr << "limbo: " << results.size() << " cases in " << total << " s: " << successes
            << " SUCCESS, " << results.size() - successes << " FAILURE; slowest " << slowest.seconds
            << " s (" << slowest.id << ")\n";
}

void run_check_chain(const GlobalOptions& options, const std::string& path) {
  std::string bytes = read_input(path, "chain file");
  auto checked = verify::check_chain(bytes);
  if (!checked) reject(options, checked.error());
  if (options.json) {
    boost::json::array subjects;
    for (const auto& c : checked->certificates)
      subjects.push_back(boost::json::string(x509::subject_string(c.get())));
    print_json({{"result", "ok"}, {"certificates", subjects}});
    return;
  }
  std::cout << "ok: " << checked->certificates.size()
            << " certificate(s), each followed by its issuer\n";
  for (size_t i = 0; i < checked->certificates.size(); ++i) {
    std::cout << "  " << i + 1 << ". " << x509::subject_string(checked->certificates[i].get())
              << "\n";
  }
}

// The certificate in a file, PEM or DER; anything else is refused with what the file holds.
x509::X509Ptr read_certificate_file(const std::string& path) {
  std::string bytes = read_input(path, "certificate file");
  if (x509::looks_like_pem(bytes)) {
    auto blocks = x509::parse_pem_blocks(bytes);
    if (blocks && !blocks->empty() && blocks->front().label != "CERTIFICATE") {
      fail(Errc::parse_error, "'" + path + "' is not a certificate: its first PEM block is '" +
                                  blocks->front().label +
                                  "'; give a file whose first block is 'CERTIFICATE'");
    }
  }
  auto cert = x509::parse_certificate(bytes);
  if (!cert) {
    fail(cert.error().code == Errc::ok ? Errc::parse_error : cert.error().code,
         "'" + path + "' is not a certificate (PEM or DER): " + cert.error().message);
  }
  return std::move(cert).value();
}

void run_inspect(const GlobalOptions& options, const std::string& path) {
  x509::X509Ptr cert = read_certificate_file(path);
  X509* c = cert.get();
  auto identity = verify::identity_from_certificate(c, std::nullopt);
  std::string fingerprint = show_fingerprint(options, x509::fingerprint_sha256(c));
  auto sans = x509::subject_alt_names(c);
  auto ekus = x509::extended_key_usages(c);
  if (options.json) {
    boost::json::array san_list, eku_list;
    for (const auto& s : sans) san_list.push_back(boost::json::string(s));
    for (const auto& e : ekus) eku_list.push_back(boost::json::string(e));
    print_json({{"subject", x509::subject_string(c)},
                {"issuer", x509::issuer_string(c)},
                {"serial", x509::serial_hex(c)},
                {"not_before", format_rfc3339(x509::not_before(c))},
                {"not_after", format_rfc3339(x509::not_after(c))},
                {"subject_alt_names", san_list},
                {"key_type", x509::key_description(c)},
                {"extended_key_usage", eku_list},
                {"sha256_fingerprint", fingerprint},
                {"identity", identity ? boost::json::value(identity->common_name())
                                      : boost::json::value(nullptr)}});
    return;
  }
  auto joined = [](const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out.empty() ? std::string("(none)") : out;
  };
  std::cout << "subject:     " << x509::subject_string(c) << "\n"
            << "issuer:      " << x509::issuer_string(c) << "\n"
            << "serial:      " << x509::serial_hex(c) << "\n"
            << "not before:  " << format_rfc3339(x509::not_before(c)) << "\n"
            << "not after:   " << format_rfc3339(x509::not_after(c)) << "\n"
            << "SANs:        " << joined(sans) << "\n"
            << "key type:    " << x509::key_description(c) << "\n"
            << "EKU:         " << joined(ekus) << "\n"
            << "SHA-256:     " << fingerprint << "\n"
            << "identity:    " << (identity ? identity->common_name() : "(not a tether identity)")
            << "\n";
}

}  // namespace

void add_cert_commands(CLI::App& app, GlobalOptions& options) {
  auto* cert = app.add_subcommand(
      "cert",
      "issue, renew, revoke and list gateway, service and admin certificates; check and inspect "
      "certificates and chains");
  cert->require_subcommand(1);

  auto args = std::make_shared<VerifyArgs>();
  auto* verify = cert->add_subcommand(
      "verify",
      "verify LEAF.pem against the given roots; exit 0 and print the identity, or exit 1 "
      "and print a reason code");
  verify->add_option("--trust", args->trust,
                     "trust anchors (PEM); only these are trusted, self-signed or not; may "
                     "repeat");
  verify->add_option("--untrusted", args->untrusted, "intermediates (PEM); may repeat");
  verify->add_option("--purpose", args->purpose, "client (default), server or any");
  verify->add_option("--at", args->at, "verify at this RFC 3339 time instead of now");
  verify->add_option("--name", args->names,
                     "expected DNS name, IP address or e-mail address; may repeat (all must "
                     "match)");
  verify->add_option("--eku", args->ekus,
                     "extended key usage the leaf must carry (serverAuth, clientAuth, or a "
                     "dotted OID); may repeat");
  verify->add_option("--key-usage", args->key_usages,
                     "key usage the leaf must assert (digitalSignature, ...); may repeat");
  verify
      ->add_option("--max-depth", args->max_depth,
                   "the most intermediates between the leaf and the trust anchor")
      ->check(CLI::Range(0, 1000));
  verify->add_option("--crl", args->crls, "CRL file (PEM or DER); may repeat");
  verify->add_flag("--crl-check-all", args->crl_check_all,
                   "with --crl: check every certificate in the chain");
  // Each repeatable option takes one value per occurrence, so it cannot swallow LEAF.pem.
  for (const char* repeatable :
       {"--trust", "--untrusted", "--name", "--eku", "--key-usage", "--crl"})
    verify->get_option(repeatable)->allow_extra_args(false);
  verify->add_option("leaf", args->leaf, "certificate to verify (PEM or DER)");
  verify
      ->add_option("--limbo", args->limbo,
                   "run every case of an x509-limbo suite (JSON, or .gz) and write the "
                   "harness results as JSON")
      ->excludes("leaf")
      ->excludes("--trust");
  add_json_option(verify, options);
  verify->callback([&options, args] {
    if (!args->limbo.empty()) return run_limbo(args->limbo);
    if (args->leaf.empty() || args->trust.empty()) {
      throw CommandError{make_error(Errc::invalid_argument,
                                    "cert verify needs LEAF.pem and --trust ROOTS.pem (or "
                                    "--limbo SUITE.json.gz)")};
    }
    run_verify(options, *args);
  });

  auto chain_file = std::make_shared<std::string>();
  auto* check = cert->add_subcommand("check-chain", "check an uploaded chain file (trust set)");
  check->add_option("file", *chain_file, "PEM file: each certificate followed by its issuer")
      ->required();
  add_json_option(check, options);
  check->callback([&options, chain_file] { run_check_chain(options, *chain_file); });

  auto inspect_file = std::make_shared<std::string>();
  auto* inspect = cert->add_subcommand(
      "inspect",
      "print a certificate's subject, issuer, serial, validity, SANs, key, EKU, fingerprint and "
      "tether identity");
  inspect->add_option("file", *inspect_file, "certificate file (PEM or DER)")->required();
  add_json_option(inspect, options);
  add_openssl_format_option(inspect, options);
  inspect->callback([&options, inspect_file] { run_inspect(options, *inspect_file); });
  add_named_cert_commands(*cert, options);
}

}  // namespace tether::cli

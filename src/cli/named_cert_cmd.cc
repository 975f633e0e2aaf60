// tether cert issue | renew | revoke | list: gateway, service and admin certificates.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/context.h"
#include "common/time_format.h"
#include "pki/cert_files.h"
#include "x509/inspect.h"
#include "x509/revocation_reason.h"

namespace tether::cli {

namespace {

struct IssueArgs {
  std::string kind;
  std::string name;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  int days = pki::kDefaultLeafDays;
  std::string key_type;  // default: the kind's (profile.h)
  std::string csr_file;
  std::string out;
};

using NamedIssueFn = Result<pki::IssuedBundle> (*)(store::CertificateStore&,
                                                   pki::CertificateAuthority&, const pki::Context&,
                                                   pki::NamedIssueRequest);

void run_issue(const GlobalOptions& options, const IssueArgs& args, std::string_view verb,
               NamedIssueFn issue) {
  std::string data_dir = resolve_data_dir(options);
  pki::NamedIssueRequest request;
  request.kind = must(pki::parse_named_kind(args.kind));
  const pki::KindProfile& profile = pki::profile_for(request.kind);
  request.name = args.name;
  must(verify::validate_id(args.name, std::string(profile.name) + " name"));
  if (!profile.server_names && !(args.dns.empty() && args.ips.empty())) {
    fail(Errc::invalid_argument, "--dns and --ip are for gateway certificates: a " +
                                     std::string(profile.name) +
                                     " certificate names its identity in its URI SAN only");
  }
  request.names = must(pki::ServerNames::parse(args.dns, args.ips));
  request.profile.key_type =
      args.key_type.empty() ? profile.default_key_type : must(x509::parse_key_type(args.key_type));
  request.profile.days = must(pki::Days::of(args.days));
  if (!args.csr_file.empty()) request.csr = read_csr_file(args.csr_file);

  auto store = open_store(data_dir);
  auto ca = open_ca(options, *store, data_dir);
  auto target = must(pki::plan_cert_files(args.out, args.name, ca.root()));
  auto ctx = make_context();
  pki::IssuedBundle issued = must(issue(*store, ca, ctx, std::move(request)));
  Status written = pki::write_cert_files(
      target, {issued.certificate.cert.get(), issued.issuing, ca.root(), issued.private_key.get()});
  const auto& cert = issued.certificate;
  if (!written) {
    fail(written.error().code, "certificate " + cert.serial +
                                   " was issued and recorded, but its files could not be "
                                   "written: " +
                                   written.error().message +
                                   "; run 'tether cert renew' with another --out");
  }
  std::string identity = std::string(profile.name) + "/" + args.name;
  if (options.json) {
    print_json({{"identity", identity},
                {"kind", std::string(profile.name)},
                {"name", args.name},
                {"serial", cert.serial},
                {"issuer", x509::subject_string(issued.issuing)},
                {"key_type", cert.key_type},
                {"not_before", format_rfc3339(cert.not_before)},
                {"not_after", format_rfc3339(cert.not_after)},
                {"sha256_fingerprint", show_fingerprint(options, cert.fingerprint)},
                {"certificate", target.chain},
                {"key", issued.private_key ? target.key : ""},
                {"ca", target.root}});
    return;
  }
  std::cout << verb << " " << identity << "\n"
            << "  issuer:      " << x509::subject_string(issued.issuing) << "\n"
            << "  serial:      " << cert.serial << "\n"
            << "  key:         " << cert.key_type
            << (issued.private_key ? "" : " (from CSR; the key stays with you)") << "\n"
            << "  valid:       " << format_rfc3339(cert.not_before) << " to "
            << format_rfc3339(cert.not_after) << "\n"
            << "  SHA-256:     " << show_fingerprint(options, cert.fingerprint) << "\n"
            << "  certificate: " << target.chain << " (leaf, then its issuing CA)\n";
  if (issued.private_key) std::cout << "  key file:    " << target.key << "\n";
  std::cout << "  root:        " << target.root << "\n";
}

void add_issue_options(CLI::App* sub, IssueArgs& args, GlobalOptions& options, bool renew) {
  sub->add_option("--kind", args.kind, "gateway (a server), service or admin (clients)")
      ->required();
  sub->add_option("--name", args.name, "name: 1-63 of a-z, 0-9, '-'")->required();
  sub->add_option("--dns", args.dns,
                  renew ? "gateway: DNS name (default: those of the current certificate); may "
                          "repeat"
                        : "gateway: DNS name it serves; may repeat (--dns or --ip required)")
      ->allow_extra_args(false);
  sub->add_option("--ip", args.ips,
                  renew ? "gateway: IP address (default: those of the current certificate); may "
                          "repeat"
                        : "gateway: IP address it serves; may repeat")
      ->allow_extra_args(false);
  sub->add_option("--days", args.days, "validity in days (default 365)");
  sub->add_option("--key-type", args.key_type,
                  "rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384 (default: ecdsa-p256 for "
                  "gateways, rsa2048 for clients)");
  sub->add_option("--csr", args.csr_file, "issue for this PKCS#10 request; no private key is made");
  sub->add_option("--out", args.out,
                  "directory for NAME.pem, NAME-key.pem and ca.pem (made if "
                  "missing)")
      ->required();
  add_data_option(sub, options);
  add_json_option(sub, options);
  add_passphrase_option(sub, options);
}

struct RevokeArgs {
  std::string kind;
  std::string name;
  std::string serial;
  std::string reason;
};

void run_revoke(const GlobalOptions& options, const RevokeArgs& args) {
  std::string data_dir = resolve_data_dir(options);
  auto kind = must(pki::parse_named_kind(args.kind));
  int reason = must(x509::parse_revocation_reason(args.reason));
  std::optional<std::string> serial;
  if (!args.serial.empty()) serial = must(pki::normalize_serial(args.serial));
  auto store = open_store(data_dir);
  auto serials = must(pki::revoke_named(*store, make_context(), kind, args.name, serial, reason));
  std::string identity = std::string(pki::profile_for(kind).name) + "/" + args.name;
  if (options.json) {
    boost::json::array out;
    for (const auto& s : serials) out.push_back(boost::json::string(s));
    print_json({{"identity", identity},
                {"revoked", out},
                {"reason", std::string(x509::revocation_reason_name(reason))}});
    return;
  }
  for (const auto& s : serials) {
    std::cout << "revoked " << s << " (" << identity << ", " << x509::revocation_reason_name(reason)
              << ")\n";
  }
  std::cout << "gateways refuse it within a second; publish a new CRL with 'tether crl --issuer "
            << (kind == verify::IdentityKind::gateway ? "server" : "connector") << " --out FILE'\n";
}

void run_list(const GlobalOptions& options, const std::string& kind_text) {
  std::string data_dir = resolve_data_dir(options);
  store::CertificateFilter filter;
  if (!kind_text.empty()) {
    filter.kind = std::string(pki::profile_for(must(pki::parse_kind(kind_text))).name);
  }
  auto store = open_store(data_dir);
  auto certs = must(store->list_certificates(filter));
  int64_t now = make_context().now;
  boost::json::array out;
  for (const auto& c : certs) {
    std::string status = pki::certificate_status(c, now);
    if (!options.json) {
      std::cout << c.identity << "\t" << status << "\t" << format_rfc3339(c.not_after) << "\t"
                << c.serial << "\n";
      continue;
    }
    boost::json::object o{{"kind", c.kind},
                          {"name", c.name},
                          {"identity", c.identity},
                          {"serial", c.serial},
                          {"status", status},
                          {"key_type", c.key_type},
                          {"not_before", format_rfc3339(c.not_before)},
                          {"not_after", format_rfc3339(c.not_after)},
                          {"sha256_fingerprint", show_fingerprint(options, c.fingerprint)},
                          {"csr_mode", c.csr_mode}};
    if (!c.tenant_id.empty()) o["tenant"] = c.tenant_id;
    if (c.revoked_at) {
      o["revoked_at"] = format_rfc3339(*c.revoked_at);
      o["revocation_reason"] = std::string(x509::revocation_reason_name(c.revocation_reason));
    }
    out.push_back(std::move(o));
  }
  if (options.json) print_json(out);
}

}  // namespace

void add_named_cert_commands(CLI::App& cert, GlobalOptions& options) {
  auto issue_args = std::make_shared<IssueArgs>();
  auto* issue = cert.add_subcommand(
      "issue",
      "issue a gateway server certificate (from the Server CA) or a service or admin client "
      "certificate (from the Connector CA)");
  add_issue_options(issue, *issue_args, options, false);
  issue->callback(
      [&options, issue_args] { run_issue(options, *issue_args, "issued", pki::issue_named); });

  auto renew_args = std::make_shared<IssueArgs>();
  auto* renew = cert.add_subcommand(
      "renew",
      "issue a new key and certificate; the old one stays valid until it expires or is "
      "revoked");
  add_issue_options(renew, *renew_args, options, true);
  renew->callback(
      [&options, renew_args] { run_issue(options, *renew_args, "renewed", pki::renew_named); });

  auto revoke_args = std::make_shared<RevokeArgs>();
  auto* revoke = cert.add_subcommand("revoke", "revoke a gateway, service or admin certificate");
  revoke->add_option("--kind", revoke_args->kind, "gateway, service or admin")->required();
  revoke->add_option("--name", revoke_args->name, "name")->required();
  revoke->add_option("--serial", revoke_args->serial, "revoke only this certificate (hex)");
  revoke
      ->add_option("--reason", revoke_args->reason,
                   "RFC 5280 reason: unspecified, key-compromise, ca-compromise, "
                   "affiliation-changed, superseded, cessation-of-operation, "
                   "privilege-withdrawn, aa-compromise")
      ->required();
  add_data_option(revoke, options);
  add_json_option(revoke, options);
  revoke->callback([&options, revoke_args] { run_revoke(options, *revoke_args); });

  auto list_kind = std::make_shared<std::string>();
  auto* list = cert.add_subcommand("list", "list issued certificates of every kind");
  list->add_option("--kind", *list_kind, "only this kind: gateway, service, admin or connector");
  add_data_option(list, options);
  add_json_option(list, options);
  list->callback([&options, list_kind] { run_list(options, *list_kind); });
}

}  // namespace tether::cli

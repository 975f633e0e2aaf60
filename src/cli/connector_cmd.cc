// tether connector create | renew | revoke | list | show
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "cli/context.h"
#include "common/duration.h"
#include "common/fs.h"
#include "common/time_format.h"
#include "pki/bundle.h"
#include "x509/inspect.h"
#include "x509/key.h"
#include "x509/pem.h"
#include "x509/revocation_reason.h"

namespace tether::cli {

namespace {

struct IssueArgs {
  std::string tenant;
  std::string id;
  std::string key_type;
  int days = pki::kDefaultLeafDays;
  std::string csr_file;
  std::string out;
  std::string p12_passphrase_file;
  bool force = false;
  // Set when the flag was given: a renewal keeps what the replaced certificate had otherwise.
  CLI::Option* key_type_option = nullptr;
  CLI::Option* days_option = nullptr;
};

boost::json::value last_presented_json(const store::CertificateRecord* c) {
  if (c == nullptr) return nullptr;
  return boost::json::object{{"serial", c->serial}, {"at", format_rfc3339(*c->last_presented_at)}};
}

std::string last_presented_text(const store::CertificateRecord* c) {
  if (c == nullptr) return "last presented: unknown";
  return "last presented: " + c->serial + " at " + format_rfc3339(*c->last_presented_at);
}

boost::json::object certificate_json(const GlobalOptions& options,
                                     const store::CertificateRecord& c, int64_t now) {
  boost::json::object o{
      {"serial", c.serial},
      {"identity", c.identity},
      {"subject", c.subject},
      {"key_type", c.key_type},
      {"not_before", format_rfc3339(c.not_before)},
      {"not_after", format_rfc3339(c.not_after)},
      {"status", pki::certificate_status(c, now)},
      {"sha256_fingerprint", show_fingerprint(options, c.fingerprint)},
      {"csr_mode", c.csr_mode},
      {"last_presented_at", c.last_presented_at
                                ? boost::json::value(format_rfc3339(*c.last_presented_at))
                                : boost::json::value(nullptr)}};
  if (c.revoked_at) {
    o["revoked_at"] = format_rfc3339(*c.revoked_at);
    o["revocation_reason"] = std::string(x509::revocation_reason_name(c.revocation_reason));
  }
  return o;
}

pki::IssueRequest create_request(const IssueArgs& args) {
  pki::IssueRequest request;
  request.tenant = args.tenant;
  request.connector = args.id;
  request.profile.key_type =
      must(x509::parse_key_type(args.key_type.empty() ? "rsa2048" : args.key_type));
  request.profile.days = must(pki::Days::of(args.days));
  must(verify::validate_id(args.tenant, "tenant id"));
  must(verify::validate_id(args.id, "connector id"));
  if (!args.csr_file.empty()) request.csr = read_csr_file(args.csr_file);
  return request;
}

pki::RenewRequest renew_request(const IssueArgs& args) {
  pki::RenewRequest request;
  request.tenant = args.tenant;
  request.connector = args.id;
  if (args.key_type_option->count() > 0)
    request.key_type = must(x509::parse_key_type(args.key_type));
  if (args.days_option->count() > 0) request.days = must(pki::Days::of(args.days));
  must(verify::validate_id(args.tenant, "tenant id"));
  must(verify::validate_id(args.id, "connector id"));
  if (!args.csr_file.empty()) request.csr = read_csr_file(args.csr_file);
  return request;
}

// Issue (create or renew) and write the bundle. Everything the user can get wrong is checked
// before the store changes.
template <class Request, class IssueFn>
void run_issue(const GlobalOptions& options, const IssueArgs& args, Request request,
               std::string_view verb, IssueFn issue) {
  const bool csr_mode = request.csr != nullptr;
  std::string data_dir = resolve_data_dir(options);
  std::string p12_passphrase;
  if (!args.p12_passphrase_file.empty()) {
    p12_passphrase = must(fs::read_passphrase_file(args.p12_passphrase_file));
  }
  auto target = must(pki::plan_bundle(args.out, !csr_mode, !p12_passphrase.empty(), args.force));

  auto store = open_store(data_dir);
  auto ca = open_ca(options, *store, data_dir);
  auto ctx = make_context();
  const pki::Authority* authority = must(ca.issuer_for(verify::IdentityKind::connector, ctx));
  pki::IssuedBundle issued = must(issue(*store, *authority, ctx, std::move(request)));

  pki::BundleContents contents;
  contents.leaf = issued.certificate.cert.get();
  contents.issuing = issued.issuing;
  contents.root = ca.root();
  contents.private_key = issued.private_key.get();
  contents.friendly_name = verify::Identity::connector(args.tenant, args.id).common_name();
  contents.archive_folder = args.tenant + "-" + args.id;
  contents.p12_passphrase = p12_passphrase;
  Status written = pki::write_bundle(target, contents);
  OPENSSL_cleanse(contents.p12_passphrase.data(), contents.p12_passphrase.size());
  OPENSSL_cleanse(p12_passphrase.data(), p12_passphrase.size());
  if (!written) {
    fail(written.error().code, "certificate " + issued.certificate.serial +
                                   " was issued and recorded, but the bundle could not be "
                                   "written: " +
                                   written.error().message +
                                   "; run 'tether connector renew' with another --out");
  }
  const auto& cert = issued.certificate;
  if (options.json) {
    print_json({{"identity", contents.friendly_name},
                {"serial", cert.serial},
                {"key_type", cert.key_type},
                {"not_before", format_rfc3339(cert.not_before)},
                {"not_after", format_rfc3339(cert.not_after)},
                {"sha256_fingerprint", show_fingerprint(options, cert.fingerprint)},
                {"csr_mode", csr_mode},
                {"bundle", args.out}});
    return;
  }
  std::cout << verb << " " << contents.friendly_name << "\n"
            << "  serial:     " << cert.serial << "\n"
            << "  key:        " << cert.key_type
            << (csr_mode ? " (from CSR; the key stays with you)" : "") << "\n"
            << "  valid:      " << format_rfc3339(cert.not_before) << " to "
            << format_rfc3339(cert.not_after) << "\n"
            << "  SHA-256:    " << show_fingerprint(options, cert.fingerprint) << "\n"
            << "  bundle:     " << args.out << "\n";
}

void add_issue_options(CLI::App* sub, IssueArgs& args, GlobalOptions& options, bool renewal) {
  sub->add_option("--tenant", args.tenant, "tenant id")->required();
  sub->add_option("--id", args.id, "connector id")->required();
  args.key_type_option = sub->add_option(
      "--key-type", args.key_type,
      renewal ? "rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384 (default: the replaced "
                "certificate's)"
              : "rsa2048 (default), rsa3072, rsa4096, ecdsa-p256, ecdsa-p384");
  args.days_option =
      sub->add_option("--days", args.days,
                      renewal ? "validity in days (default: the replaced certificate's lifetime)"
                              : "validity in days (default 365)");
  sub->add_option("--csr", args.csr_file,
                  renewal ? "issue for this PKCS#10 request; required for a connector that makes "
                            "its own key"
                          : "issue for this PKCS#10 request; no private key is made");
  sub->add_option("--out", args.out, "bundle: DIR, FILE.tar.gz or FILE.p12")->required();
  sub->add_option("--p12-passphrase-file", args.p12_passphrase_file,
                  "passphrase for a .p12 bundle (first line of the file)");
  if (renewal) {
    sub->add_flag("--force", args.force,
                  "--out may name the existing bundle: it is replaced atomically");
  }
  add_data_option(sub, options);
  add_json_option(sub, options);
  add_passphrase_option(sub, options);
  add_openssl_format_option(sub, options);
}

struct RevokeArgs {
  std::string tenant;
  std::string id;
  std::string serial;
  std::string reason = "unspecified";
};

void run_revoke(const GlobalOptions& options, const RevokeArgs& args) {
  std::string data_dir = resolve_data_dir(options);
  int reason = must(x509::parse_revocation_reason(args.reason));
  must(verify::validate_id(args.tenant, "tenant id"));
  must(verify::validate_id(args.id, "connector id"));
  std::optional<std::string> serial;
  if (!args.serial.empty()) serial = must(pki::normalize_serial(args.serial));
  auto store = open_store(data_dir);
  auto serials =
      must(pki::revoke_connector(*store, make_context(), args.tenant, args.id, serial, reason));
  if (options.json) {
    boost::json::array out;
    for (const auto& s : serials) out.push_back(boost::json::string(s));
    print_json({{"identity", verify::Identity::connector(args.tenant, args.id).common_name()},
                {"revoked", out},
                {"reason", std::string(x509::revocation_reason_name(reason))}});
    return;
  }
  for (const auto& s : serials) {
    std::cout << "revoked " << s << " (connector/" << args.tenant << "/" << args.id << ", "
              << x509::revocation_reason_name(reason) << ")\n";
  }
  std::cout << "publish a new CRL with 'tether crl --out FILE'\n";
}

struct ListArgs {
  std::string tenant;
  std::string expiring_within;
};

using CertList = std::vector<const store::CertificateRecord*>;

// The certificate that represents a connector: the newest one that is not revoked, or the
// newest of all when every certificate is revoked.
const store::CertificateRecord* current_certificate(const CertList& certs) {
  const store::CertificateRecord* best = nullptr;
  for (const auto* c : certs) {
    if (c->revoked_at) continue;
    if (best == nullptr || c->not_after > best->not_after) best = c;
  }
  if (best != nullptr) return best;
  for (const auto* c : certs) {
    if (best == nullptr || c->issued_at >= best->issued_at) best = c;
  }
  return best;
}

// The certificate a gateway saw most recently, when any was recorded.
const store::CertificateRecord* last_presented(const CertList& certs) {
  const store::CertificateRecord* best = nullptr;
  for (const auto* c : certs) {
    if (c->last_presented_at &&
        (best == nullptr || *c->last_presented_at > *best->last_presented_at))
      best = c;
  }
  return best;
}

// Every certificate that still lets the connector in and expires within `window`: an older
// certificate the connector may still be using counts as much as the newest.
CertList expiring_certificates(const CertList& certs, int64_t now, int64_t window) {
  CertList out;
  for (const auto* c : pki::usable_certificates(certs, now)) {
    if (c->not_after - now <= window) out.push_back(c);
  }
  return out;
}

// A connector's status over all its certificates: "expiring" when any usable one expires
// within the warning window, "active" when some are usable, else the current one's status
// ("expired" or "revoked").
std::string connector_status(const CertList& certs, const store::CertificateRecord& current,
                             int64_t now) {
  if (pki::usable_certificates(certs, now).empty()) return pki::certificate_status(current, now);
  if (!expiring_certificates(certs, now, pki::kExpiringWindowSeconds).empty()) return "expiring";
  return "active";
}

void run_list(const GlobalOptions& options, const ListArgs& args) {
  std::string data_dir = resolve_data_dir(options);
  std::optional<int64_t> window;
  if (!args.expiring_within.empty())
    window = must(parse_duration(args.expiring_within, "--expiring-within"));
  std::optional<std::string> tenant;
  if (!args.tenant.empty()) {
    must(verify::validate_id(args.tenant, "tenant id"));
    tenant = args.tenant;
  }
  auto store = open_store(data_dir);
  auto connectors = must(store->list_connectors(tenant));
  auto certs = must(store->list_certificates({tenant, std::nullopt}));
  std::map<std::pair<std::string, std::string>, CertList> by_connector;
  for (const auto& c : certs) by_connector[{c.tenant_id, c.connector_id}].push_back(&c);
  int64_t now = make_context().now;

  boost::json::array out;
  for (const auto& conn : connectors) {
    const CertList& own = by_connector[{conn.tenant_id, conn.id}];
    const auto* cert = current_certificate(own);
    if (cert == nullptr) continue;
    CertList expiring =
        expiring_certificates(own, now, window.value_or(pki::kExpiringWindowSeconds));
    if (window && expiring.empty()) continue;
    std::string status = connector_status(own, *cert, now);
    const auto* presented = last_presented(own);
    if (options.json) {
      boost::json::array soon;
      for (const auto* c : expiring)
        soon.push_back({{"serial", c->serial}, {"not_after", format_rfc3339(c->not_after)}});
      boost::json::object o{{"tenant", conn.tenant_id},
                            {"id", conn.id},
                            {"status", status},
                            {"serial", cert->serial},
                            {"not_after", format_rfc3339(cert->not_after)},
                            {"certificates", own.size()},
                            {"expiring", soon},
                            {"last_presented", last_presented_json(presented)}};
      out.push_back(std::move(o));
      continue;
    }
    // With --expiring-within, one line per expiring certificate (an older one included);
    // otherwise one line per connector, for its current certificate.
    CertList lines = window ? expiring : CertList{cert};
    for (const auto* c : lines) {
      std::cout << conn.tenant_id << "/" << conn.id << "\t" << status << "\t"
                << format_rfc3339(c->not_after) << "\t" << c->serial << "\t"
                << last_presented_text(presented) << "\n";
    }
  }
  if (options.json) print_json(out);
}

struct ShowArgs {
  std::string tenant;
  std::string id;
};

void run_show(const GlobalOptions& options, const ShowArgs& args) {
  std::string data_dir = resolve_data_dir(options);
  must(verify::validate_id(args.tenant, "tenant id"));
  must(verify::validate_id(args.id, "connector id"));
  auto store = open_store(data_dir);
  auto connector = must(store->find_connector(args.tenant, args.id));
  if (!connector) {
    fail(Errc::not_found,
         "connector '" + args.id + "' does not exist in tenant '" + args.tenant + "'");
  }
  auto certs = must(store->list_certificates({args.tenant, args.id}));
  CertList own;
  for (const auto& c : certs) own.push_back(&c);
  const auto* presented = last_presented(own);
  int64_t now = make_context().now;
  if (options.json) {
    boost::json::array list;
    for (const auto& c : certs) list.push_back(certificate_json(options, c, now));
    print_json({{"tenant", args.tenant},
                {"id", args.id},
                {"identity", verify::Identity::connector(args.tenant, args.id).common_name()},
                {"created_at", format_rfc3339(connector->created_at)},
                {"last_presented", last_presented_json(presented)},
                {"certificates", list}});
    return;
  }
  std::cout << "connector/" << args.tenant << "/" << args.id << " (created "
            << format_rfc3339(connector->created_at) << ")\n"
            << "  " << last_presented_text(presented) << "\n";
  for (const auto& c : certs) {
    std::cout << "  " << c.serial << "  " << pki::certificate_status(c, now) << "  " << c.key_type
              << (c.csr_mode ? " (CSR)" : "") << "  " << format_rfc3339(c.not_before) << " .. "
              << format_rfc3339(c.not_after) << "  " << show_fingerprint(options, c.fingerprint);
    if (c.revoked_at) {
      std::cout << "  revoked " << format_rfc3339(*c.revoked_at) << " ("
                << x509::revocation_reason_name(c.revocation_reason) << ")";
    }
    std::cout << "\n";
  }
}

}  // namespace

void add_connector_commands(CLI::App& app, GlobalOptions& options) {
  auto* connector = app.add_subcommand("connector", "connector certificates and bundles");
  connector->require_subcommand(1);

  auto create_args = std::make_shared<IssueArgs>();
  auto* create =
      connector->add_subcommand("create", "create a connector and its first certificate");
  add_issue_options(create, *create_args, options, false);
  create->callback([&options, create_args] {
    run_issue(options, *create_args, create_request(*create_args), "created",
              pki::create_connector);
  });

  auto renew_args = std::make_shared<IssueArgs>();
  auto* renew = connector->add_subcommand(
      "renew",
      "issue a new certificate with the key type, lifetime and mode (CSR or not) of the one it "
      "replaces; the old one stays valid until it expires or is revoked");
  add_issue_options(renew, *renew_args, options, true);
  renew->callback([&options, renew_args] {
    run_issue(options, *renew_args, renew_request(*renew_args), "renewed", pki::renew_connector);
  });

  auto revoke_args = std::make_shared<RevokeArgs>();
  auto* revoke = connector->add_subcommand(
      "revoke", "revoke a connector's certificates (or one, by --serial)");
  revoke->add_option("--tenant", revoke_args->tenant, "tenant id")->required();
  revoke->add_option("--id", revoke_args->id, "connector id")->required();
  revoke->add_option("--serial", revoke_args->serial, "revoke only this certificate (hex)");
  revoke->add_option(
      "--reason", revoke_args->reason,
      "RFC 5280 reason: unspecified, key-compromise, ca-compromise, affiliation-changed, "
      "superseded, cessation-of-operation, privilege-withdrawn, aa-compromise");
  add_data_option(revoke, options);
  add_json_option(revoke, options);
  revoke->callback([&options, revoke_args] { run_revoke(options, *revoke_args); });

  auto list_args = std::make_shared<ListArgs>();
  auto* list =
      connector->add_subcommand("list", "list connectors and the status of their certificate");
  list->add_option("--tenant", list_args->tenant, "only this tenant");
  list->add_option("--expiring-within", list_args->expiring_within,
                   "only connectors whose certificate expires within this time (e.g. 30d)");
  add_data_option(list, options);
  add_json_option(list, options);
  list->callback([&options, list_args] { run_list(options, *list_args); });

  auto show_args = std::make_shared<ShowArgs>();
  auto* show = connector->add_subcommand("show", "show a connector and all its certificates");
  show->add_option("--tenant", show_args->tenant, "tenant id")->required();
  show->add_option("--id", show_args->id, "connector id")->required();
  add_data_option(show, options);
  add_json_option(show, options);
  add_openssl_format_option(show, options);
  show->callback([&options, show_args] { run_show(options, *show_args); });
}

}  // namespace tether::cli

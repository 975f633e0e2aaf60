// tether crl
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/context.h"
#include "common/duration.h"
#include "common/fs.h"
#include "x509/pem.h"

namespace tether::cli {

void add_crl_command(CLI::App& app, GlobalOptions& options) {
  struct Args {
    std::string out;
    bool der = false;
    std::string next_update = "7d";
    std::string issuer = "connector";
  };
  auto args = std::make_shared<Args>();
  auto* crl = app.add_subcommand("crl", "issue a CRL signed by an issuing CA");
  crl->add_option("--out", args->out, "write the CRL to FILE (default: standard output)");
  crl->add_flag("--der", args->der, "DER instead of PEM");
  crl->add_option("--next-update", args->next_update, "time until nextUpdate (default 7d)");
  crl->add_option("--issuer", args->issuer,
                  "connector (default): the Connector CA's CRL, for client certificates; "
                  "server: the Server CA's, for gateway certificates");
  add_data_option(crl, options);
  add_passphrase_option(crl, options);
  crl->callback([&options, args] {
    std::string data_dir = resolve_data_dir(options);
    int64_t validity = must(parse_duration(args->next_update, "--next-update"));
    if (validity < pki::kMinCrlValiditySeconds || validity > pki::kMaxCrlValiditySeconds) {
      fail(Errc::invalid_argument,
           "--next-update '" + args->next_update + "' is out of range: use 1h to 366d");
    }
    pki::IssuerRole role = pki::IssuerRole::connector_ca;
    if (args->issuer == "server") {
      role = pki::IssuerRole::server_ca;
    } else if (args->issuer != "connector") {
      fail(Errc::invalid_argument,
           "--issuer '" + args->issuer + "' is not an issuing CA: use connector or server");
    }
    auto store = open_store(data_dir);
    auto ca = open_ca(options, *store, data_dir);
    auto ctx = make_context();
    const pki::Authority* authority = must(ca.issuer(role, ctx));
    auto crl_obj = must(pki::issue_crl(*store, *authority, ctx, validity));
    std::string bytes = args->der ? x509::to_der(crl_obj.get()) : x509::to_pem(crl_obj.get());
    if (args->out.empty()) {
      std::cout << bytes;
      return;
    }
    // Replacing a published CRL is normal: write a new file and rename it over the old one so
    // readers never see half a CRL.
    std::string tmp = args->out + ".tmp";
    fs::remove_all(tmp);
    must(fs::write_new_file(tmp, bytes, 0644));
    must(fs::rename_path(tmp, args->out));
  });
}

}  // namespace tether::cli

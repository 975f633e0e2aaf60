// What every subcommand shares: the data directory, output mode, and the way errors are shown.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "cli/exit_code.h"
#include "common/error.h"
#include "pki/certificate_authority.h"
#include "pki/lifecycle.h"
#include "store/store.h"

namespace CLI {
class App;
}

namespace tether::cli {

struct GlobalOptions {
  std::string data_dir;  // --data, else $TETHER_DATA, else ./tether-data
  bool json = false;     // --json
  // --passphrase-file, else $TETHER_CA_PASSPHRASE_FILE (a path), else $TETHER_CA_PASSPHRASE
  // (the passphrase itself).
  std::string passphrase_file;
  bool openssl_format = false;  // --openssl-format: fingerprints as AA:BB:...
};

// Thrown inside a subcommand to end it with a one-line message; the exit code follows from the
// error's code (exit_code_for). `outcome_printed`: stdout already carries the outcome (a
// verification rejection), so no JSON error document is added.
struct CommandError {
  Error error;
  bool outcome_printed = false;
};

// Unwraps a Result or throws CommandError.
template <class T>
T must(Result<T> result) {
  if (!result) throw CommandError{std::move(result).error()};
  return std::move(result).value();
}
inline void must(Status status) {
  if (!status) throw CommandError{std::move(status).error()};
}
[[noreturn]] inline void fail(Errc code, std::string message) {
  throw CommandError{Error{code, std::move(message)}};
}

std::string resolve_data_dir(const GlobalOptions& options);
std::string store_path(const std::string& data_dir);
// The store of an existing CA (Errc::ca_missing when there is none).
std::unique_ptr<store::Store> open_store(const std::string& data_dir);
// The CA's keys: PKCS#8 files in the CA directory, encrypted with `passphrase` (from
// --passphrase-file or $TETHER_CA_PASSPHRASE; empty: unencrypted).
pki::CertificateAuthority::KeyStoreAt file_key_store(std::string passphrase);
// Opens the data directory's CA; its keys are read when an issuer is first asked for.
pki::CertificateAuthority open_ca(const GlobalOptions& options, store::Store& store,
                                  const std::string& data_dir);
std::string read_passphrase(const GlobalOptions& options);
// Reads and parses a --csr file once; the error names the file.
x509::X509ReqPtr read_csr_file(const std::string& path);
pki::Context make_context();

void print_json(const boost::json::value& value);
// A SHA-256 fingerprint (lowercase hex) as the command prints it: as is, or with
// --openssl-format as `openssl x509 -fingerprint` does.
std::string show_fingerprint(const GlobalOptions& options, const std::string& fingerprint);

// Each registers its subcommands on the app.
void add_ca_commands(CLI::App& app, GlobalOptions& options);
void add_gateway_command(CLI::App& app);
void add_server_command(CLI::App& app, GlobalOptions& options);
void add_tenant_commands(CLI::App& app, GlobalOptions& options);
void add_connector_commands(CLI::App& app, GlobalOptions& options);
void add_crl_command(CLI::App& app, GlobalOptions& options);
void add_cert_commands(CLI::App& app, GlobalOptions& options);
// tether cert issue | renew | revoke | list, on the `cert` subcommand add_cert_commands made.
void add_named_cert_commands(CLI::App& cert, GlobalOptions& options);
void add_audit_commands(CLI::App& app, GlobalOptions& options);

}  // namespace tether::cli

namespace tether::cli {
// Options every subcommand takes where it makes sense.
void add_data_option(CLI::App* sub, GlobalOptions& options);
void add_json_option(CLI::App* sub, GlobalOptions& options);
void add_passphrase_option(CLI::App* sub, GlobalOptions& options);
void add_openssl_format_option(CLI::App* sub, GlobalOptions& options);
}  // namespace tether::cli

// What every subcommand shares: the data directory, output mode, and the way errors are shown.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "common/error.h"
#include "pki/certificate_authority.h"
#include "pki/lifecycle.h"
#include "store/sqlite_store.h"

namespace CLI {
class App;
}

namespace tether::cli {

// Exit codes: 0 success, 1 the operation failed (or a certificate did not verify), 2 usage error.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string data_dir;         // --data, else $TETHER_DATA, else ./tether-data
  bool json = false;            // --json
  std::string passphrase_file;  // --passphrase-file, else $TETHER_CA_PASSPHRASE
};

// Thrown inside a subcommand to end it with a one-line message and an exit code.
struct CommandError {
  Error error;
  int exit_code = kExitFailure;
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
[[noreturn]] inline void fail(Errc code, std::string message, int exit_code = kExitFailure) {
  throw CommandError{Error{code, std::move(message)}, exit_code};
}

std::string resolve_data_dir(const GlobalOptions& options);
std::string store_path(const std::string& data_dir);
std::unique_ptr<store::SqliteStore> open_store(const std::string& data_dir);
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

// Each registers its subcommands on the app.
void add_ca_commands(CLI::App& app, GlobalOptions& options);
void add_gateway_command(CLI::App& app);
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
}  // namespace tether::cli

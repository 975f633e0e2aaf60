// issue_loop: issues many connector certificates through the real lifecycle, for the crash-safety
// test (tests/integration/test_crash_safety.py), which SIGKILLs it part-way through.
//
//   issue_loop --data DIR --tenant ID --count N --passphrase-file FILE [--prefix P]
//
// Creates connectors P-0 .. P-(N-1) in tenant ID (ecdsa-p256 keys: fast to make). After each
// create_connector has returned, i.e. after its store transaction committed, prints
// "issued <serial>" and flushes, so every line the test reads names a durable issuance.
#include <openssl/crypto.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

#include "common/fs.h"
#include "pki/ca_files.h"
#include "pki/file_key_store.h"
#include "pki/lifecycle.h"
#include "store/open.h"

namespace {

using namespace tether;

struct Args {
  std::string data_dir;
  std::string tenant;
  std::string passphrase_file;
  std::string prefix = "c";
  long count = 0;
};

[[noreturn]] void usage(std::string_view problem) {
  std::fprintf(stderr,
               "issue_loop: %.*s\nusage: issue_loop --data DIR --tenant ID --count N "
               "--passphrase-file FILE [--prefix P]\n",
               static_cast<int>(problem.size()), problem.data());
  std::exit(2);
}

[[noreturn]] void die(const Error& error) {
  std::fprintf(stderr, "issue_loop: %s [%.*s]\n", error.message.c_str(),
               static_cast<int>(error.reason().size()), error.reason().data());
  std::exit(1);
}

template <class T>
T must(Result<T> result) {
  if (!result) die(result.error());
  return std::move(result).value();
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
    std::string value = argv[++i];
    if (flag == "--data") {
      args.data_dir = value;
    } else if (flag == "--tenant") {
      args.tenant = value;
    } else if (flag == "--passphrase-file") {
      args.passphrase_file = value;
    } else if (flag == "--prefix") {
      args.prefix = value;
    } else if (flag == "--count") {
      char* end = nullptr;
      args.count = std::strtol(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0' || args.count < 1) {
        usage("--count '" + value + "' is not a positive number");
      }
    } else {
      usage("unknown option '" + std::string(flag) + "'");
    }
  }
  if (args.data_dir.empty() || args.tenant.empty() || args.passphrase_file.empty() ||
      args.count == 0) {
    usage("--data, --tenant, --count and --passphrase-file are required");
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  auto store = must(store::open(args.data_dir + "/tether.db"));
  std::string passphrase = must(fs::read_passphrase_file(args.passphrase_file));
  auto ca = must(pki::CertificateAuthority::open(
      args.data_dir, *store,
      std::make_unique<pki::FileKeyStore>(pki::CaPaths::in(args.data_dir).dir, passphrase)));
  OPENSSL_cleanse(passphrase.data(), passphrase.size());
  pki::Context opened{"tool:issue_loop", static_cast<int64_t>(std::time(nullptr))};
  const pki::Authority* authority = must(ca.issuer(pki::IssuerRole::connector_ca, opened));

  pki::IssueRequest request;
  request.tenant = args.tenant;
  request.profile.key_type = x509::KeyType::ecdsa_p256;
  for (long i = 0; i < args.count; ++i) {
    request.connector = args.prefix + "-" + std::to_string(i);
    pki::Context ctx{"tool:issue_loop", static_cast<int64_t>(std::time(nullptr))};
    auto issued = must(pki::create_connector(*store, *authority, ctx, request));
    // Printed only once the issuance is committed: the test relies on every line being durable.
    std::printf("issued %s\n", issued.certificate.serial.c_str());
    std::fflush(stdout);
  }
  return 0;
}

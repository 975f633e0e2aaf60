// queue_issue_loop: many concurrent CSR-mode connector issuances through the path of
// `tether server` (prepare on the caller's thread, commit through the IssuanceQueue), for the
// crash-safety test (tests/integration/test_issuance_crash.py), which SIGKILLs it part-way.
//
//   queue_issue_loop --data DIR --tenant ID --count N --passphrase-file FILE
//                    [--threads T] [--prefix P]
//
// T threads (16 by default) act as API clients: each makes a CSR for its next connector
// (P-0 .. P-(N-1), ECDSA P-256), prepares the issuance, submits the write and waits for the
// answer before its next one. When a write's answer is ok, i.e. after its batch's COMMIT
// returned, the committer prints "issued <serial>" and flushes, so every line the test reads
// names a durable issuance, as a 201 of the server would.
#include <openssl/crypto.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "pki/ca_files.h"
#include "pki/file_key_store.h"
#include "pki/issuance_queue.h"
#include "pki/lifecycle.h"
#include "store/open.h"
#include "x509/key.h"

namespace {

using namespace tether;

struct Args {
  std::string data_dir;
  std::string tenant;
  std::string passphrase_file;
  std::string prefix = "q";
  long count = 0;
  long threads = 16;
};

[[noreturn]] void usage(std::string_view problem) {
  std::fprintf(stderr,
               "queue_issue_loop: %.*s\nusage: queue_issue_loop --data DIR --tenant ID --count N "
               "--passphrase-file FILE [--threads T] [--prefix P]\n",
               static_cast<int>(problem.size()), problem.data());
  std::exit(2);
}

// Any thread may fail; the process ends at once (stdout was flushed after every line).
[[noreturn]] void die(const Error& error) {
  std::fprintf(stderr, "queue_issue_loop: %s [%.*s]\n", error.message.c_str(),
               static_cast<int>(error.reason().size()), error.reason().data());
  std::fflush(nullptr);
  std::_Exit(1);
}

template <class T>
T must(Result<T> result) {
  if (!result) die(result.error());
  return std::move(result).value();
}

long positive(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  long n = std::strtol(value.c_str(), &end, 10);
  if (end == value.c_str() || *end != '\0' || n < 1) {
    usage(flag + " '" + value + "' is not a positive number");
  }
  return n;
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
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
      args.count = positive(flag, value);
    } else if (flag == "--threads") {
      args.threads = positive(flag, value);
    } else {
      usage("unknown option '" + flag + "'");
    }
  }
  if (args.data_dir.empty() || args.tenant.empty() || args.passphrase_file.empty() ||
      args.count == 0) {
    usage("--data, --tenant, --count and --passphrase-file are required");
  }
  return args;
}

// One API client: issues connectors first, first + step, ... below args.count, one at a time.
void client(const Args& args, const pki::Authority& authority, pki::IssuanceQueue& queue,
            long first, long step) {
  std::string db = args.data_dir + "/tether.db";
  auto store = must(store::open(db));  // prepare reads the store: a handle per thread
  auto key = must(x509::generate_key(x509::KeyType::ecdsa_p256));
  for (long i = first; i < args.count; i += step) {
    pki::IssueRequest request;
    request.tenant = args.tenant;
    request.connector = args.prefix + "-" + std::to_string(i);
    request.csr = must(x509::build_csr(
        key.get(), verify::Identity::connector(args.tenant, request.connector).common_name()));
    pki::Context ctx{"tool:queue_issue_loop", static_cast<int64_t>(std::time(nullptr))};
    pki::PreparedIssuance prepared =
        must(pki::prepare_create_connector(*store, authority, ctx, request));
    std::promise<void> answered;
    queue.submit(std::move(prepared.write),
                 [&, serial = prepared.bundle.certificate.serial](Status s) {
                   if (!s) die(s.error());
                   // On the committer thread, after COMMIT: the line means "on disk".
                   std::printf("issued %s\n", serial.c_str());
                   std::fflush(stdout);
                   answered.set_value();
                 });
    answered.get_future().wait();
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  std::string db = args.data_dir + "/tether.db";
  auto store = must(store::open(db));
  std::string passphrase = must(fs::read_passphrase_file(args.passphrase_file));
  auto ca = must(pki::CertificateAuthority::open(
      args.data_dir, *store,
      std::make_unique<pki::FileKeyStore>(pki::CaPaths::in(args.data_dir).dir, passphrase)));
  OPENSSL_cleanse(passphrase.data(), passphrase.size());
  pki::Context opened{"tool:queue_issue_loop", static_cast<int64_t>(std::time(nullptr))};
  // Loaded once, before the clients start: the issuers are then only read.
  const pki::Authority* authority = must(ca.issuer(pki::IssuerRole::connector_ca, opened));
  auto queue = must(pki::IssuanceQueue::start(must(store::open(db))));

  std::vector<std::thread> clients;
  for (long t = 0; t < args.threads; ++t) {
    clients.emplace_back(client, std::cref(args), std::cref(*authority), std::ref(*queue), t,
                         args.threads);
  }
  for (auto& c : clients) c.join();
  queue->stop();
  pki::IssuanceQueue::Stats stats = queue->stats();
  std::fprintf(stderr, "queue_issue_loop: %llu issuances in %llu batches (largest %llu)\n",
               static_cast<unsigned long long>(stats.items_committed),
               static_cast<unsigned long long>(stats.batches),
               static_cast<unsigned long long>(stats.largest_batch));
  return 0;
}

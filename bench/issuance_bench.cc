// Issuance throughput next to the raw signing rate of the same CA key, measured in one run.
//
// For each CA key type it makes a CA in a temporary data directory
// (pki::CertificateAuthority::initialize, unencrypted keys), a SQLite store (WAL, synchronous=FULL,
// one transaction per issuance: the product path) and a tenant, then measures for a fixed time
// budget and a bounded count:
//
//   raw sign         EVP_DigestSign over a 600-byte message with the issuing CA key and the digest
//                    tether signs with (x509::signing_digest); run before and after the issuance
//                    rows, the two runs pooled, so machine noise hits both sides of the ratio
//   csr, no store    parse_csr + Authority::check_csr + Authority::issue: CSR mode without the
//                    store, i.e. its CPU-only part (a diagnostic row)
//   csr              pki::create_connector with a pre-generated CSR (the acceptance row)
//   server keygen    pki::create_connector generating the leaf key (same type as the CA's)
//   raw sign, 16 thr the raw sign row from 16 threads at once: what the machine's cores sign
//   csr, queue 16    the path of `tether server`: 16 client threads, each parsing its CSR,
//                    preparing (pki::prepare_create_connector) and waiting for its write's
//                    answer from the pki::IssuanceQueue (group commit, one fsync per batch)
//
// Each row prints the rate, wall and process CPU time (getrusage user+sys) per operation, and the
// rate as a fraction of the raw sign rate.
#include <sys/resource.h>
#include <sys/vfs.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/fs.h"
#include "pki/ca_files.h"
#include "pki/certificate_authority.h"
#include "pki/file_key_store.h"
#include "pki/issuance_queue.h"
#include "pki/lifecycle.h"
#include "store/open.h"
#include "x509/build.h"
#include "x509/key.h"
#include "x509/openssl_error.h"
#include "x509/pem.h"

namespace {

using namespace tether;
using Clock = std::chrono::steady_clock;

constexpr const char* kTrustDomain = "tether.internal";
constexpr const char* kTenant = "bench";
constexpr size_t kMessageBytes = 600;  // about the size of a leaf's TBSCertificate
constexpr long kMaxRawSigns = 1'000'000;
constexpr size_t kCsrKeys = 8;  // leaf keys the CSR pool cycles through
constexpr double kTarget = 0.5;
constexpr long kBatch = 64;                 // connectors per transaction in the bulk-creation row
constexpr int kClients = 16;                // concurrent API clients in the queue rows
constexpr double kEcdsaQueueTarget = 1000;  // certificates/s, ECDSA P-256 through the queue

struct Options {
  double seconds = 3.0;
  long max_issuances = 5000;
  std::string tmpdir;
  std::vector<x509::KeyType> key_types;
};

// One measured row: how many operations, in how much wall and process CPU time.
struct Measurement {
  long count = 0;
  double wall_seconds = 0;
  double cpu_seconds = 0;  // user + sys
  double sys_seconds = 0;

  double rate() const { return wall_seconds > 0 ? count / wall_seconds : 0; }
  double wall_ms() const { return count > 0 ? 1000 * wall_seconds / count : 0; }
  double cpu_ms() const { return count > 0 ? 1000 * cpu_seconds / count : 0; }
  double sys_ms() const { return count > 0 ? 1000 * sys_seconds / count : 0; }
  Measurement& operator+=(const Measurement& other) {
    count += other.count;
    wall_seconds += other.wall_seconds;
    cpu_seconds += other.cpu_seconds;
    sys_seconds += other.sys_seconds;
    return *this;
  }
};

// This process's CPU time so far: user + sys, and sys alone.
struct CpuTime {
  double total = 0;
  double sys = 0;
};

CpuTime process_cpu_time() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return {seconds(usage.ru_utime) + seconds(usage.ru_stime), seconds(usage.ru_stime)};
}

// Runs `op(i)` for i = 0, 1, ... until the time budget or `max_count` is reached.
template <class Op>
Result<Measurement> measure(const Options& options, long max_count, Op&& op) {
  Measurement m;
  CpuTime cpu_start = process_cpu_time();
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(options.seconds));
  while (m.count < max_count && Clock::now() < deadline) {
    TETHER_TRY(op(m.count));
    ++m.count;
  }
  m.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  CpuTime cpu_end = process_cpu_time();
  m.cpu_seconds = cpu_end.total - cpu_start.total;
  m.sys_seconds = cpu_end.sys - cpu_start.sys;
  return m;
}

// Runs `op(thread, i)` from `threads` threads for i = 0, 1, ... (each i once) until the time
// budget or `max_count` is reached; the first error stops every thread.
template <class Op>
Result<Measurement> measure_parallel(const Options& options, int threads, long max_count, Op&& op) {
  std::atomic<long> next{0};
  std::atomic<long> done{0};
  std::mutex failed_mutex;
  std::optional<Error> failed;
  CpuTime cpu_start = process_cpu_time();
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(options.seconds));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (;;) {
        long i = next.fetch_add(1);
        if (i >= max_count || Clock::now() >= deadline) return;
        Status s = op(t, i);
        if (!s) {
          std::lock_guard lock(failed_mutex);
          if (!failed) failed = std::move(s).error();
          next.store(max_count);
          return;
        }
        done.fetch_add(1);
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failed) return *failed;
  Measurement m;
  m.count = done.load();
  m.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  CpuTime cpu_end = process_cpu_time();
  m.cpu_seconds = cpu_end.total - cpu_start.total;
  m.sys_seconds = cpu_end.sys - cpu_start.sys;
  return m;
}

// A fresh directory under `parent`, removed with everything in it when this goes away.
class TempDir {
 public:
  static Result<std::unique_ptr<TempDir>> create(const std::string& parent) {
    std::string pattern = parent + "/tether-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return make_error(Errc::io_error, "cannot create a temporary directory in '" + parent +
                                            "': choose another with --tmpdir");
    }
    return std::unique_ptr<TempDir>(new TempDir(pattern));
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

std::string filesystem_name(const std::string& path) {
  struct statfs info {};
  if (::statfs(path.c_str(), &info) != 0) return "unknown";
  switch (static_cast<unsigned long>(info.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs";
    case 0x794C7630:
      return "overlayfs";
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "fs type 0x%lx", static_cast<unsigned long>(info.f_type));
  return buf;
}

// One raw signature, as X509_sign makes it: a fresh digest context per signature.
Status raw_sign(EVP_PKEY* key, const std::string& message, std::vector<unsigned char>& sig) {
  x509::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = sig.size();
  TETHER_TRY(
      x509::check(EVP_DigestSignInit(ctx.get(), nullptr, x509::signing_digest(key), nullptr, key),
                  Errc::crypto_error, "EVP_DigestSignInit"));
  return x509::check(
      EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()),
      Errc::crypto_error, "EVP_DigestSign");
}

std::string connector_id(const char* prefix, long i) {
  return prefix + std::to_string(i);
}

// CSRs as a connector would send them (PEM, CN naming its identity), one per connector id
// "csr-<i>", signed by a few pre-generated leaf keys of `type`.
Result<std::vector<std::string>> make_csr_pool(x509::KeyType type, long count, const char* prefix) {
  std::vector<x509::PkeyPtr> keys;
  for (size_t i = 0; i < kCsrKeys; ++i) {
    TETHER_ASSIGN_OR_RETURN(auto key, x509::generate_key(type));
    keys.push_back(std::move(key));
  }
  std::vector<std::string> pool;
  for (long i = 0; i < count; ++i) {
    auto identity = verify::Identity::connector(kTenant, connector_id(prefix, i));
    TETHER_ASSIGN_OR_RETURN(auto csr, x509::build_csr(keys[static_cast<size_t>(i) % kCsrKeys].get(),
                                                      identity.common_name()));
    pool.push_back(x509::to_pem(csr.get()));
  }
  return pool;
}

struct Row {
  std::string key_type;
  std::string mode;
  Measurement m;
};

struct KeyTypeResult {
  std::vector<Row> rows;
  double csr_ratio = 0;
  double batched_ratio = 0;
  double queue_rate = 0;
  double queue_ratio = 0;           // to the raw sign rate of one thread
  double queue_parallel_ratio = 0;  // to the raw sign rate of kClients threads
  pki::IssuanceQueue::Stats queue_stats;
};

Result<KeyTypeResult> bench_key_type(const Options& options, x509::KeyType type) {
  std::string name(x509::key_type_name(type));
  std::fprintf(stderr, "== %s: setting up CA, store and %ld CSRs\n", name.c_str(),
               options.max_issuances);
  TETHER_ASSIGN_OR_RETURN(auto dir, TempDir::create(options.tmpdir));
  const std::string& data = dir->path();
  pki::Context ctx{"bench", static_cast<int64_t>(std::time(nullptr))};

  TETHER_ASSIGN_OR_RETURN(auto ca_options, pki::CaInitOptions::create(type, kTrustDomain));
  TETHER_ASSIGN_OR_RETURN(auto store, store::open(data + "/tether.db", {.create = true}));
  auto keys_at = [](const std::string& ca_dir) -> std::unique_ptr<pki::KeyStore> {
    return std::make_unique<pki::FileKeyStore>(ca_dir, "");
  };
  TETHER_ASSIGN_OR_RETURN(
      auto ca, pki::CertificateAuthority::initialize(data, *store, keys_at, ca_options, ctx));
  TETHER_ASSIGN_OR_RETURN(const pki::Authority* issuer,
                          ca.issuer(pki::IssuerRole::connector_ca, ctx));
  const pki::Authority& authority = *issuer;
  TETHER_TRY(pki::create_tenant(*store, ctx, kTenant, "Benchmark tenant"));

  // The same issuing key, loaded as the authority loads it, for the raw sign rows.
  auto ca_key = keys_at(pki::CaPaths::in(data).dir)->load(pki::kConnectorCaKeyLabel);
  if (!ca_key) return std::move(ca_key).error();
  const pki::Days days = pki::Days::of(pki::kDefaultLeafDays).value();
  std::string message(kMessageBytes, '\0');
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>(i * 131 + 7);
  std::vector<unsigned char> sig(static_cast<size_t>(EVP_PKEY_get_size(ca_key->get())));

  TETHER_ASSIGN_OR_RETURN(auto csrs, make_csr_pool(type, options.max_issuances, "csr-"));
  TETHER_ASSIGN_OR_RETURN(auto batch_csrs, make_csr_pool(type, options.max_issuances, "bat-"));
  TETHER_ASSIGN_OR_RETURN(auto queue_csrs, make_csr_pool(type, options.max_issuances, "q-"));
  long pool_size = static_cast<long>(csrs.size());

  // The operations timed. Connector ids are unique per issuance: "csr-<i>" names the pool's CSR
  // i (its CN must match), "gen-<i>" the server-keygen connectors.
  auto sign_once = [&](long) { return raw_sign(ca_key->get(), message, sig); };
  auto issue_without_store = [&](long i) -> Status {
    auto identity = verify::Identity::connector(kTenant, connector_id("csr-", i));
    TETHER_ASSIGN_OR_RETURN(auto csr, x509::parse_csr(csrs[static_cast<size_t>(i)]));
    TETHER_ASSIGN_OR_RETURN(auto key, authority.check_csr(csr.get(), identity));
    TETHER_TRY(
        authority.issue(identity, {key.get(), X509_REQ_get_X509_PUBKEY(csr.get())}, days, ctx.now));
    return ok_status();
  };
  // CSR rows include parsing the request, as `connector create --csr` does once.
  auto create = [&](std::string id, std::optional<std::string> csr) -> Status {
    pki::IssueRequest request;
    request.tenant = kTenant;
    request.connector = std::move(id);
    request.profile.key_type = type;
    if (csr) {
      TETHER_ASSIGN_OR_RETURN(request.csr, x509::parse_csr(*csr));
    }
    TETHER_TRY(pki::create_connector(*store, authority, ctx, request));
    return ok_status();
  };
  auto create_with_csr = [&](long i) {
    return create(connector_id("csr-", i), csrs[static_cast<size_t>(i)]);
  };
  auto create_with_keygen = [&](long i) { return create(connector_id("gen-", i), std::nullopt); };
  // Bulk creation: kBatch CSR-mode connectors recorded in one transaction (one fsync). One
  // operation is one whole batch; the row's count is then scaled to issuances.
  auto create_batch = [&](long b) -> Status {
    std::vector<pki::IssueRequest> batch;
    for (long i = b * kBatch; i < (b + 1) * kBatch; ++i) {
      pki::IssueRequest request;
      request.tenant = kTenant;
      request.connector = connector_id("bat-", i);
      request.profile.key_type = type;
      TETHER_ASSIGN_OR_RETURN(request.csr, x509::parse_csr(batch_csrs[static_cast<size_t>(i)]));
      batch.push_back(std::move(request));
    }
    auto created = pki::create_connectors(*store, authority, ctx, batch);
    if (!created) return std::move(created).error();
    return ok_status();
  };

  // The server's path: a store handle per client thread (prepare reads the store) and one for
  // the queue's committer.
  std::vector<std::unique_ptr<store::Store>> client_stores;
  for (int t = 0; t < kClients; ++t) {
    TETHER_ASSIGN_OR_RETURN(auto handle, store::open(data + "/tether.db"));
    client_stores.push_back(std::move(handle));
  }
  TETHER_ASSIGN_OR_RETURN(auto committer_store, store::open(data + "/tether.db"));
  TETHER_ASSIGN_OR_RETURN(auto queue, pki::IssuanceQueue::start(std::move(committer_store)));
  std::vector<std::vector<unsigned char>> client_sigs(kClients, sig);
  auto sign_parallel = [&](int t, long) {
    return raw_sign(ca_key->get(), message, client_sigs[static_cast<size_t>(t)]);
  };
  auto create_queued = [&](int t, long i) -> Status {
    pki::IssueRequest request;
    request.tenant = kTenant;
    request.connector = connector_id("q-", i);
    request.profile.key_type = type;
    TETHER_ASSIGN_OR_RETURN(request.csr, x509::parse_csr(queue_csrs[static_cast<size_t>(i)]));
    TETHER_ASSIGN_OR_RETURN(pki::PreparedIssuance prepared,
                            pki::prepare_create_connector(*client_stores[static_cast<size_t>(t)],
                                                          authority, ctx, request));
    return queue->submit(std::move(prepared.write)).get();
  };

  TETHER_ASSIGN_OR_RETURN(Measurement raw, measure(options, kMaxRawSigns, sign_once));
  TETHER_ASSIGN_OR_RETURN(Measurement no_store, measure(options, pool_size, issue_without_store));
  TETHER_ASSIGN_OR_RETURN(Measurement csr_mode, measure(options, pool_size, create_with_csr));
  TETHER_ASSIGN_OR_RETURN(Measurement batched, measure(options, pool_size / kBatch, create_batch));
  batched.count *= kBatch;
  TETHER_ASSIGN_OR_RETURN(Measurement keygen,
                          measure(options, options.max_issuances, create_with_keygen));
  TETHER_ASSIGN_OR_RETURN(Measurement raw_parallel,
                          measure_parallel(options, kClients, kMaxRawSigns, sign_parallel));
  TETHER_ASSIGN_OR_RETURN(Measurement queued,
                          measure_parallel(options, kClients, pool_size, create_queued));
  queue->stop();
  TETHER_ASSIGN_OR_RETURN(Measurement raw_after, measure(options, kMaxRawSigns, sign_once));
  raw += raw_after;

  KeyTypeResult result;
  result.rows = {{name, "raw sign", raw},         {name, "csr, no store", no_store},
                 {name, "csr", csr_mode},         {name, "csr, batch 64", batched},
                 {name, "server keygen", keygen}, {name, "raw sign, 16 thr", raw_parallel},
                 {name, "csr, queue 16", queued}};
  result.csr_ratio = raw.rate() > 0 ? csr_mode.rate() / raw.rate() : 0;
  result.batched_ratio = raw.rate() > 0 ? batched.rate() / raw.rate() : 0;
  result.queue_rate = queued.rate();
  result.queue_ratio = raw.rate() > 0 ? queued.rate() / raw.rate() : 0;
  result.queue_parallel_ratio = raw_parallel.rate() > 0 ? queued.rate() / raw_parallel.rate() : 0;
  result.queue_stats = queue->stats();
  return result;
}

void print_table(const std::vector<KeyTypeResult>& results) {
  std::printf(
      "| CA key     | mode             |   count |    ops/s | wall ms/op | CPU ms/op | of it sys "
      "| vs raw sign |\n"
      "|------------|------------------|--------:|---------:|-----------:|----------:|----------:"
      "|------------:|\n");
  for (const auto& result : results) {
    double raw_rate = result.rows.front().m.rate();
    for (const auto& row : result.rows) {
      double ratio = raw_rate > 0 ? row.m.rate() / raw_rate : 0;
      std::printf("| %-10s | %-16s | %7ld | %8.1f | %10.3f | %9.3f | %9.3f | %11.3f |\n",
                  row.key_type.c_str(), row.mode.c_str(), row.m.count, row.m.rate(),
                  row.m.wall_ms(), row.m.cpu_ms(), row.m.sys_ms(), ratio);
    }
  }
  std::printf("\n");
  for (const auto& result : results) {
    auto verdict = [](double ratio) { return ratio >= kTarget ? "meets target" : "BELOW TARGET"; };
    std::printf(
        "%s: CSR-mode issuance runs at %.3f of the raw sign rate with a commit per "
        "issuance (%s) and %.3f with %ld per commit (%s); target >= %.1f\n",
        result.rows.front().key_type.c_str(), result.csr_ratio, verdict(result.csr_ratio),
        result.batched_ratio, kBatch, verdict(result.batched_ratio), kTarget);
    const auto& q = result.queue_stats;
    std::printf(
        "%s: through the issuance queue with %d clients: %.1f certificates/s, %.3f of the raw "
        "sign rate of one thread and %.3f of %d threads; %llu batches, %.1f issuances per "
        "commit on average, largest %llu\n",
        result.rows.front().key_type.c_str(), kClients, result.queue_rate, result.queue_ratio,
        result.queue_parallel_ratio, kClients, static_cast<unsigned long long>(q.batches),
        q.batches > 0 ? static_cast<double>(q.items_committed) / static_cast<double>(q.batches)
                      : 0.0,
        static_cast<unsigned long long>(q.largest_batch));
    bool ecdsa = result.rows.front().key_type == "ecdsa-p256";
    bool met = ecdsa ? result.queue_rate >= kEcdsaQueueTarget : result.queue_ratio >= kTarget;
    std::printf("%s: queue target %s: %s\n", result.rows.front().key_type.c_str(),
                ecdsa ? ">= 1000 certificates/s" : ">= 0.5 of the raw sign rate",
                met ? "meets target" : "BELOW TARGET");
  }
}

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "tether_issuance_bench: %s\n"
               "usage: tether_issuance_bench [--seconds S] [--max-issuances N] [--tmpdir DIR] "
               "[--key-type rsa2048|ecdsa-p256]...\n",
               message.c_str());
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  const char* tmp = std::getenv("TMPDIR");
  options.tmpdir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--seconds") {
      char* end = nullptr;
      options.seconds = std::strtod(value.c_str(), &end);
      if (*end != '\0' || options.seconds < 0.1 || options.seconds > 60) {
        usage_error("--seconds '" + value + "' is not a number from 0.1 to 60");
      }
    } else if (flag == "--max-issuances") {
      char* end = nullptr;
      options.max_issuances = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || options.max_issuances < 1 || options.max_issuances > 100000) {
        usage_error("--max-issuances '" + value + "' is not a whole number from 1 to 100000");
      }
    } else if (flag == "--tmpdir") {
      options.tmpdir = value;
    } else if (flag == "--key-type") {
      auto type = x509::parse_key_type(value);
      if (!type) usage_error("--key-type: " + type.error().message);
      options.key_types.push_back(*type);
    } else {
      usage_error("unknown option '" + flag + "'");
    }
  }
  if (options.key_types.empty()) {
    options.key_types = {x509::KeyType::rsa2048, x509::KeyType::ecdsa_p256};
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  std::printf(
      "tether issuance bench: %.1f s per row, at most %ld issuances per row; data in %s "
      "(%s), SQLite WAL synchronous=FULL\n\n",
      options.seconds, options.max_issuances, options.tmpdir.c_str(),
      filesystem_name(options.tmpdir).c_str());
  std::vector<KeyTypeResult> results;
  for (x509::KeyType type : options.key_types) {
    auto result = bench_key_type(options, type);
    if (!result) {
      std::fprintf(stderr, "tether_issuance_bench: %s: %s [%s]\n",
                   std::string(x509::key_type_name(type)).c_str(), result.error().message.c_str(),
                   std::string(result.error().reason()).c_str());
      return 1;
    }
    results.push_back(std::move(result).value());
  }
  print_table(results);
  return 0;
}

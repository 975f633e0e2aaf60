// tls_load: an mTLS load client for the gateway benchmark (bench/gateway_bench.py).
//
// wrk and most HTTP load tools cannot present a client certificate, so this one does. Every
// connection presents --cert/--key, verifies the server against --ca only, sends --sni and checks
// the server certificate's name against it. Blocking sockets, one thread per connection (the
// connection counts here are small, except in idle mode, which opens its connections from a few
// threads and then only holds them). Every socket operation has a timeout (--timeout-ms), and
// every run is bounded by --duration seconds and --max-ops operations, whichever comes first.
//
//   full       connect, full handshake (no session reuse: client session cache off, no tickets
//              offered), then close: close_notify, and wait for the server's close so that a
//              rejection (a TLS 1.3 alert arrives after the client's Finished) counts as an error
//   resume     the same, but every handshake offers the last session the server gave this
//              connection loop (TLS 1.3 tickets arrive after the handshake; the close wait reads
//              them); counts only resumed handshakes, reports the others as not_resumed
//   keepalive  one handshake per connection, then HTTP/1.1 GET --path again and again on it;
//              responses must carry Content-Length (chunked is reported as an error)
//   idle       open --connections handshaken connections, print a "ready" line, hold them for
//              --duration seconds (the driver samples server memory meanwhile), then close
//
// Output: for idle, first {"event":"ready",...} when all connections are up; then, for every
// mode, one JSON line {"mode":..,"ops":..,"seconds":..,"rate":..,"p50_ms":..,"p99_ms":..,
// "errors":..,"first_error":..}. p50/p99 are of connect+handshake (full, resume, idle) or of one
// request (keepalive). Exit 1 when no operation succeeded, 2 on usage errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "x509/handles.h"
#include "x509/openssl_error.h"

namespace {

using namespace tether;
using Clock = std::chrono::steady_clock;

using SessionPtr = x509::SslSessionPtr;

constexpr size_t kMaxResponseHeader = 16384;
constexpr size_t kMaxIdleThreads = 8;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string cert, key, ca, sni;
  std::string mode = "full";
  int connections = 8;
  double duration = 5;
  long max_ops = 1'000'000;
  std::string path = "/";
  int timeout_ms = 5000;
  std::string tls_version = "any";  // "1.2", "1.3" or "any"
  bool idle_request = false;
};

// --- outcome bookkeeping ------------------------------------------------------------------------

// What one thread did. Merged into one result at the end.
struct Stats {
  long ops = 0;
  long errors = 0;
  long not_resumed = 0;
  std::string first_error;
  std::vector<uint32_t> latency_us;

  void error(std::string what) {
    if (errors++ == 0) first_error = std::move(what);
  }
  void merge(Stats&& other) {
    if (first_error.empty()) first_error = std::move(other.first_error);
    ops += other.ops;
    errors += other.errors;
    not_resumed += other.not_resumed;
    latency_us.insert(latency_us.end(), other.latency_us.begin(), other.latency_us.end());
  }
};

// The shared bound of a run: a deadline and a count of operations still allowed.
class Budget {
 public:
  Budget(double seconds, long max_ops)
      : deadline_(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds))),
        remaining_(max_ops) {}
  bool take() { return Clock::now() < deadline_ && remaining_.fetch_sub(1) > 0; }

 private:
  Clock::time_point deadline_;
  std::atomic<long> remaining_;
};

uint32_t micros_since(Clock::time_point start) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  return static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX));
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// --- one connection -----------------------------------------------------------------------------

// A client socket. Closed with SO_LINGER 0 (a reset, no TIME_WAIT): the full and resume loops open
// thousands of connections a second, which would otherwise run the client out of ephemeral ports.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~Socket() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ < 0) return;
    linger hard{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Conn {
  Socket sock;
  x509::SslPtr ssl;
};

// Why an SSL_* call returned `rc`, in one line; drains the OpenSSL error queue.
std::string ssl_failure(SSL* ssl, int rc, std::string_view what) {
  int saved_errno = errno;
  std::string msg(what);
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_ZERO_RETURN:
      msg += ": the server closed the connection (close_notify)";
      break;
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      msg += ": timed out";
      break;
    case SSL_ERROR_SYSCALL:
      msg += saved_errno != 0 ? std::string(": ") + std::strerror(saved_errno)
                              : std::string(": the server closed the connection");
      break;
    default:
      msg += ": " + x509::drain_openssl_errors();
      break;
  }
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    msg += std::string(" (server certificate: ") + X509_verify_cert_error_string(verify) + ")";
  ERR_clear_error();
  return msg;
}

bool tcp_connect(const Options& o, Socket& sock, std::string& err) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) {
    err = "--host must be an IPv4 address, not " + o.host;
    return false;
  }
  sock = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) {
    err = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  // The timeouts bound connect, every read and every write, so no run can hang on a silent server.
  timeval tv{o.timeout_ms / 1000, (o.timeout_ms % 1000) * 1000};
  int one = 1;
  setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(sock.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    err = std::string("connect: ") + std::strerror(errno);
    return false;
  }
  return true;
}

// TCP connect and TLS handshake, offering `session` when given.
bool open_conn(const Options& o, SSL_CTX* ctx, SSL_SESSION* session, void* app_data, Conn& c,
               std::string& err) {
  ERR_clear_error();
  if (!tcp_connect(o, c.sock, err)) return false;
  c.ssl.reset(SSL_new(ctx));
  if (!c.ssl || SSL_set_fd(c.ssl.get(), c.sock.get()) != 1 ||
      SSL_set_tlsext_host_name(c.ssl.get(), o.sni.c_str()) != 1 ||
      SSL_set1_host(c.ssl.get(), o.sni.c_str()) != 1 ||
      (session != nullptr && SSL_set_session(c.ssl.get(), session) != 1)) {
    err = "setting up the TLS connection: " + x509::drain_openssl_errors();
    return false;
  }
  SSL_set_app_data(c.ssl.get(), app_data);
  int rc = SSL_connect(c.ssl.get());
  if (rc != 1) {
    err = ssl_failure(c.ssl.get(), rc, "handshake");
    return false;
  }
  return true;
}

// Sends close_notify and reads until the server closes. Reading is what makes a TLS 1.3 handshake
// count: the server checks the client certificate after the client's Finished, so a rejection
// only shows up as an alert here. It also receives TLS 1.3 session tickets.
bool close_and_wait(Conn& c, std::string& err) {
  SSL* ssl = c.ssl.get();
  SSL_shutdown(ssl);
  char buf[4096];
  for (;;) {
    int rc = SSL_read(ssl, buf, sizeof buf);
    if (rc > 0) continue;  // nothing is expected, but a server may say something before closing
    int code = SSL_get_error(ssl, rc);
    if (code == SSL_ERROR_ZERO_RETURN ||
        (code == SSL_ERROR_SYSCALL && (errno == 0 || errno == ECONNRESET))) {
      ERR_clear_error();
      // Record the clean close for SSL_free: OpenSSL 3.0 forgets that close_notify went out
      // when it reads after sending it, and would then mark the session not resumable.
      SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
      return true;
    }
    err = ssl_failure(ssl, rc, "waiting for the server to close");
    return false;
  }
}

bool write_all(SSL* ssl, std::string_view data, std::string& err) {
  size_t written = 0;
  if (SSL_write_ex(ssl, data.data(), data.size(), &written) != 1 || written != data.size()) {
    err = ssl_failure(ssl, 0, "sending the request");
    return false;
  }
  return true;
}

// Content-Length of a response head, or an error for anything this client does not handle.
bool parse_head(std::string_view head, size_t& content_length, bool& close, std::string& err) {
  if (!head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200")) {
    err = "response status is not 200: " + std::string(head.substr(0, head.find('\r')));
    return false;
  }
  bool have_length = false;
  close = head.starts_with("HTTP/1.0");
  size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "content-length") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), content_length);
      have_length = ec == std::errc();
    } else if (name == "transfer-encoding") {
      err = "response uses Transfer-Encoding (" + std::string(value) +
            "); this client reads Content-Length bodies only";
      return false;
    } else if (name == "connection") {
      std::string v(value);
      std::transform(v.begin(), v.end(), v.begin(), ::tolower);
      close = v.find("close") != std::string::npos;
    }
  }
  if (!have_length) {
    err = "response has no Content-Length";
    return false;
  }
  return true;
}

// One request and its whole response on a kept-alive connection. `buf` is reused across requests;
// `close` tells the caller the server will close the connection after this response.
bool request(Conn& c, std::string_view req, std::string& buf, bool& close, std::string& err) {
  SSL* ssl = c.ssl.get();
  if (!write_all(ssl, req, err)) return false;
  buf.clear();
  size_t head_end = std::string::npos;
  size_t content_length = 0;
  char chunk[16384];
  for (;;) {
    if (head_end != std::string::npos && buf.size() >= head_end + content_length) {
      if (buf.size() > head_end + content_length) {
        err = "the server sent more than Content-Length";
        return false;
      }
      return true;
    }
    int rc = SSL_read(ssl, chunk, sizeof chunk);
    if (rc <= 0) {
      err = ssl_failure(ssl, rc, "reading the response");
      return false;
    }
    buf.append(chunk, static_cast<size_t>(rc));
    if (head_end == std::string::npos) {
      size_t pos = buf.find("\r\n\r\n");
      if (pos == std::string::npos) {
        if (buf.size() > kMaxResponseHeader) {
          err = "response head longer than 16 KiB";
          return false;
        }
        continue;
      }
      head_end = pos + 4;
      if (!parse_head(std::string_view(buf).substr(0, head_end), content_length, close, err)) {
        return false;
      }
    }
  }
}

// --- the modes ----------------------------------------------------------------------------------

// The latest session the server gave one resume loop (set from the new-session callback).
struct ResumeState {
  SessionPtr session;
};

int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* state = static_cast<ResumeState*>(SSL_get_app_data(ssl));
  if (state == nullptr) return 0;
  state->session.reset(session);
  return 1;  // we keep the reference
}

void handshake_loop(const Options& o, SSL_CTX* ctx, Budget& budget, ResumeState* resume,
                    Stats& st) {
  std::string err;
  while (budget.take()) {
    Conn c;
    auto start = Clock::now();
    SSL_SESSION* offer = resume != nullptr ? resume->session.get() : nullptr;
    if (!open_conn(o, ctx, offer, resume, c, err)) {
      st.error(err);
      continue;
    }
    uint32_t us = micros_since(start);
    bool reused = SSL_session_reused(c.ssl.get()) == 1;
    if (!close_and_wait(c, err)) {
      st.error(err);
      continue;
    }
    if (resume != nullptr && !reused) {
      st.not_resumed++;
      continue;
    }
    st.ops++;
    st.latency_us.push_back(us);
  }
}

std::string request_text(const Options& o) {
  return "GET " + o.path + " HTTP/1.1\r\nHost: " + o.sni +
         "\r\nUser-Agent: tether-tls-load\r\n\r\n";
}

void keepalive_loop(const Options& o, SSL_CTX* ctx, Budget& budget, Stats& st) {
  const std::string req = request_text(o);
  std::string buf, err;
  Conn c;
  bool open = false;
  while (budget.take()) {
    if (!open) {
      if (!open_conn(o, ctx, nullptr, nullptr, c, err)) {
        st.error(err);
        continue;
      }
      open = true;
    }
    bool close = false;
    auto start = Clock::now();
    if (!request(c, req, buf, close, err)) {
      st.error(err);
      open = false;
      continue;
    }
    st.latency_us.push_back(micros_since(start));
    st.ops++;
    if (close) open = false;
  }
  if (open) SSL_shutdown(c.ssl.get());
}

// Opens connections [first, first + stride, ...) of `conns`; the caller holds them.
void idle_open(const Options& o, SSL_CTX* ctx, std::vector<Conn>& conns, size_t first,
               size_t stride, Stats& st) {
  const std::string req = request_text(o);
  std::string buf, err;
  for (size_t i = first; i < conns.size(); i += stride) {
    Conn& c = conns[i];
    auto start = Clock::now();
    bool close = false;
    if (!open_conn(o, ctx, nullptr, nullptr, c, err) ||
        (o.idle_request && !request(c, req, buf, close, err))) {
      st.error(err);
      c = Conn{};
      continue;
    }
    st.latency_us.push_back(micros_since(start));
    st.ops++;
  }
}

// --- setup and report ---------------------------------------------------------------------------

x509::SslCtxPtr make_ctx(const Options& o, std::string& err) {
  x509::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  auto fail = [&](const std::string& what) {
    err = what + ": " + x509::drain_openssl_errors();
    return x509::SslCtxPtr();
  };
  if (!ctx) return fail("SSL_CTX_new");
  int min = o.tls_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  int max = o.tls_version == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx.get(), min) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), max) != 1) {
    return fail("setting the TLS version");
  }
  // The client chain file holds the leaf then the intermediate; both are sent.
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), o.cert.c_str()) != 1) {
    return fail("loading --cert " + o.cert);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), o.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail("loading --key " + o.key);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) return fail("--key does not match --cert");
  if (SSL_CTX_load_verify_locations(ctx.get(), o.ca.c_str(), nullptr) != 1) {
    return fail("loading --ca " + o.ca);
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  // A server that closes without close_notify is not an error for this client.
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (o.mode == "resume") {
    SSL_CTX_set_session_cache_mode(ctx.get(),
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx.get(), on_new_session);
  } else {
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  }
  return ctx;
}

double percentile_ms(std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;
}

void print_result(const Options& o, Stats& st, double seconds) {
  std::sort(st.latency_us.begin(), st.latency_us.end());
  double rate = seconds > 0 ? static_cast<double>(st.ops) / seconds : 0;
  std::printf(
      "{\"mode\":\"%s\",\"connections\":%d,\"ops\":%ld,\"seconds\":%.3f,\"rate\":%.1f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%ld,",
      o.mode.c_str(), o.connections, st.ops, seconds, rate, percentile_ms(st.latency_us, 0.50),
      percentile_ms(st.latency_us, 0.99), st.errors);
  if (o.mode == "resume")
    std::printf("\"resumed\":%ld,\"not_resumed\":%ld,", st.ops, st.not_resumed);
  std::printf("\"first_error\":%s}\n", json_string(st.first_error).c_str());
  std::fflush(stdout);
}

void raise_fd_limit(int needed) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
  if (lim.rlim_cur < static_cast<rlim_t>(needed) + 64) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int run(const Options& o) {
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit(o.connections);
  std::string err;
  x509::SslCtxPtr ctx = make_ctx(o, err);
  if (!ctx) {
    std::fprintf(stderr, "tls_load: %s\n", err.c_str());
    return 1;
  }
  const size_t n = static_cast<size_t>(o.connections);
  std::vector<Stats> stats(n);
  Stats total;
  double seconds = 0;

  if (o.mode == "idle") {
    std::vector<Conn> conns(n);
    size_t threads = std::min(n, kMaxIdleThreads);
    auto start = Clock::now();
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back(idle_open, std::cref(o), ctx.get(), std::ref(conns), t, threads,
                        std::ref(stats[t]));
    }
    for (auto& th : pool) th.join();
    seconds = seconds_since(start);
    for (auto& s : stats) total.merge(std::move(s));
    std::printf("{\"event\":\"ready\",\"established\":%ld,\"errors\":%ld}\n", total.ops,
                total.errors);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
    for (auto& c : conns) {
      if (c.ssl) SSL_shutdown(c.ssl.get());
    }
  } else {
    std::vector<ResumeState> resume(o.mode == "resume" ? n : 0);
    // Resume loops start from a session of their own, got outside the measured time.
    for (auto& r : resume) {
      Conn c;
      if (!open_conn(o, ctx.get(), nullptr, &r, c, err) || !close_and_wait(c, err)) {
        std::fprintf(stderr, "tls_load: the first handshake for a session failed: %s\n",
                     err.c_str());
        return 1;
      }
      if (!r.session) {
        std::fprintf(stderr, "tls_load: the server sent no session (ticket or session id)\n");
        return 1;
      }
    }
    Budget budget(o.duration, o.max_ops);
    auto start = Clock::now();
    std::vector<std::thread> pool;
    for (size_t i = 0; i < n; ++i) {
      if (o.mode == "keepalive") {
        pool.emplace_back(keepalive_loop, std::cref(o), ctx.get(), std::ref(budget),
                          std::ref(stats[i]));
      } else {
        ResumeState* r = o.mode == "resume" ? &resume[i] : nullptr;
        pool.emplace_back(handshake_loop, std::cref(o), ctx.get(), std::ref(budget), r,
                          std::ref(stats[i]));
      }
    }
    for (auto& th : pool) th.join();
    seconds = seconds_since(start);
    for (auto& s : stats) total.merge(std::move(s));
  }

  if (o.mode == "resume" && total.ops == 0 && total.first_error.empty()) {
    total.first_error = "the server resumed none of the " + std::to_string(total.not_resumed) +
                        " sessions offered (each became a full handshake)";
  }
  print_result(o, total, seconds);
  if (total.ops == 0) {
    std::fprintf(stderr, "tls_load: no %s operation succeeded (%ld errors; first: %s)\n",
                 o.mode.c_str(), total.errors, total.first_error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"tls_load: mTLS load client for the gateway benchmark"};
  app.add_option("--host", o.host, "server IPv4 address")->capture_default_str();
  app.add_option("--port", o.port, "server port")->required()->check(CLI::Range(1, 65535));
  app.add_option("--cert", o.cert, "client certificate chain, PEM (leaf first)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--key", o.key, "client private key, PEM")->required()->check(CLI::ExistingFile);
  app.add_option("--ca", o.ca, "trust anchors for the server certificate, PEM")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--sni", o.sni, "server name sent and verified")->required();
  app.add_option("--mode", o.mode)
      ->check(CLI::IsMember({"full", "resume", "keepalive", "idle"}))
      ->capture_default_str();
  app.add_option("--connections", o.connections, "concurrent connections (idle: held)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--duration", o.duration, "seconds to run (idle: to hold)")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  app.add_option("--max-ops", o.max_ops, "at most this many operations")
      ->check(CLI::Range(1L, 1'000'000'000L))
      ->capture_default_str();
  app.add_option("--path", o.path, "request path (keepalive)")->capture_default_str();
  app.add_option("--timeout-ms", o.timeout_ms, "timeout of every connect, read and write")
      ->check(CLI::Range(100, 60000))
      ->capture_default_str();
  app.add_option("--tls-version", o.tls_version)
      ->check(CLI::IsMember({"1.2", "1.3", "any"}))
      ->capture_default_str();
  app.add_flag("--idle-request", o.idle_request, "idle: one request on each connection first");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return run(o);
}

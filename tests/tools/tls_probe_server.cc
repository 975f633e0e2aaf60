// A tiny blocking mTLS server for integration tests of tls::ServerContext.
//
// Binds 127.0.0.1:<port>, prints "LISTENING <port>", then serves --connections N connections one
// at a time: each handshake goes through tls::ServerContext and its verification hook, and ends
// in one JSON line on stdout. An accepted client gets "hello <identity>\n" and a close_notify.
//
//   tls_probe_server --cert S.pem --key K.pem --trust CA.pem [--trust ...]
//                    [--trust-domain D] [--min-version 1.2|1.3] [--revoked-serial HEX ...]
//                    [--port 0] [--connections 1]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <unordered_set>

#include "tls/server_context.h"

namespace {

using tether::tls::HandshakeOutcome;

class SerialSet : public tether::tls::RevocationSet {
 public:
  explicit SerialSet(std::unordered_set<std::string> serials) : serials_(std::move(serials)) {}
  bool is_revoked(std::string_view serial_hex) const override {
    return serials_.count(std::string(serial_hex)) != 0;
  }

 private:
  std::unordered_set<std::string> serials_;
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_or_null(const std::string& s) {
  return s.empty() ? "null" : json_string(s);
}

void print_outcome(SSL* ssl, const HandshakeOutcome& out) {
  std::string line = "{\"outcome\":";
  line += out.ok() ? "\"ok\"" : "\"rejected\"";
  line += ",\"reason\":" + json_string(tether::reason_token(out.reason));
  line += ",\"alert\":" + json_or_null(std::string(tether::alert_name(out.reason)));
  line += ",\"alert_sent\":" +
          (out.alert_sent < 0 ? std::string("null")
                              : json_string(tether::tls_alert_name_for_number(out.alert_sent)));
  line += ",\"identity\":" + json_or_null(out.identity ? out.identity->common_name() : "");
  line += ",\"serial\":" + json_or_null(out.serial_hex);
  line += ",\"sha256\":" + json_or_null(out.ok() ? out.fingerprint_sha256 : "");
  line += ",\"tls_version\":" + json_string(SSL_get_version(ssl));
  line += ",\"resumed\":" + std::string(SSL_session_reused(ssl) ? "true" : "false");
  const char* cipher = SSL_get_cipher_name(ssl);
  line += ",\"cipher\":" + json_or_null(cipher && std::string(cipher) != "(NONE)" ? cipher : "");
  line += ",\"detail\":" + json_string(out.detail);
  line += "}";
  std::cout << line << std::endl;  // endl flushes: the test reads line by line
}

void serve_one(const tether::tls::ServerContext& ctx, int fd) {
  // Bounded waits: a stuck client must not stall the test, as a handshake never waits forever.
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto ssl = ctx.new_ssl();
  if (!ssl.ok()) {
    std::cerr << ssl.error().message << "\n";
    return;
  }
  SSL_set_fd(ssl->get(), fd);
  int rc = SSL_accept(ssl->get());
  const HandshakeOutcome& out = tether::tls::conclude_handshake(ssl->get(), rc);
  print_outcome(ssl->get(), out);
  if (!out.ok()) {
    // OpenSSL has sent the alert. Lingering close: stop writing, then read what the client still
    // sends (in TLS 1.3 it may already be writing its request) until it closes, so closing with
    // unread data cannot become a TCP reset that destroys the alert before the client read it.
    ::shutdown(fd, SHUT_WR);
    char discard[4096];
    while (::recv(fd, discard, sizeof discard, 0) > 0) {
    }
    return;
  }
  std::string hello = "hello " + out.identity->common_name() + "\n";
  SSL_write(ssl->get(), hello.data(), static_cast<int>(hello.size()));
  SSL_shutdown(ssl->get());
  // Read until the client closes, so closing with unread client data cannot turn into a TCP
  // reset that destroys the reply before the client read it.
  char buf[4096];
  while (SSL_read(ssl->get(), buf, sizeof buf) > 0) {
  }
  ERR_clear_error();
}

int usage(const std::string& why) {
  std::cerr << "tls_probe_server: " << why
            << "\nusage: tls_probe_server --cert S.pem --key K.pem --trust CA.pem [--trust ...] "
               "[--trust-domain D] [--min-version 1.2|1.3] [--revoked-serial HEX ...] [--port 0] "
               "[--connections N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  tether::tls::ServerConfig config;
  std::unordered_set<std::string> revoked;
  int port = 0;
  int connections = 1;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return usage("flag " + flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--cert") {
      config.cert_chain_path = value;
    } else if (flag == "--key") {
      config.key_path = value;
    } else if (flag == "--trust") {
      config.trust_anchor_paths.push_back(value);
    } else if (flag == "--trust-domain") {
      config.trust_domain = value;
    } else if (flag == "--min-version") {
      if (value != "1.2" && value != "1.3") return usage("--min-version must be 1.2 or 1.3");
      config.min_version =
          value == "1.3" ? tether::tls::TlsVersion::tls1_3 : tether::tls::TlsVersion::tls1_2;
    } else if (flag == "--revoked-serial") {
      revoked.insert(value);
    } else if (flag == "--port") {
      port = std::atoi(value.c_str());
    } else if (flag == "--connections") {
      connections = std::atoi(value.c_str());
    } else {
      return usage("unknown flag " + flag);
    }
  }
  config.revocation = std::make_shared<SerialSet>(std::move(revoked));
  auto ctx = tether::tls::ServerContext::create(config);
  if (!ctx.ok()) {
    std::cerr << "tls_probe_server: " << ctx.error().reason() << ": " << ctx.error().message
              << "\n";
    return 1;
  }

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 16) != 0) {
    std::perror("tls_probe_server: bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::cout << "LISTENING " << ntohs(addr.sin_port) << std::endl;

  for (int served = 0; served < connections; ++served) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      std::perror("tls_probe_server: accept");
      return 1;
    }
    serve_one(**ctx, fd);
    ::close(fd);
  }
  ::close(listener);
  return 0;
}

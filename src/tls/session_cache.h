// A server-side TLS session cache shared by every worker's TLS context: resumption without
// session tickets that carry (and must re-decode) the whole session.
//
// With stateless tickets OpenSSL 3.0 encodes the session, client certificate included, into
// every ticket it issues and decodes it again on every resumption; decoding a certificate's key
// is OpenSSL 3.0's slowest path (a sixth of a full handshake, half of a resumed one, measured
// in bench/RESULTS.md). Here the ticket is only an id: the session stays decoded in memory, as
// with nginx's `ssl_session_cache shared:` and `ssl_session_tickets off`.
//
// A session resumes only under the server name it was made for (session_binding.h), and only
// under the same session id context (same trust, same verification settings). TLS 1.3 tickets
// of a stateful server are single-use: OpenSSL removes a session when it resumes it and the
// client gets a new ticket.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tether::tls {

class SessionCache {
 public:
  explicit SessionCache(size_t max_sessions) : max_sessions_(max_sessions) {}
  ~SessionCache();
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;

  // Makes `ctx` keep its sessions here (stateful TLS 1.3 tickets, TLS 1.2 session ids). The
  // cache must outlive the context.
  void install(SSL_CTX* ctx);

 private:
  struct Entry {
    SSL_SESSION* session;  // one reference held by the cache
    std::string binding;   // server name the session was made under
    std::list<std::string>::iterator age;
  };

  static int on_new(SSL* ssl, SSL_SESSION* session);
  static SSL_SESSION* on_get(SSL* ssl, const unsigned char* id, int length, int* copy);
  static void on_remove(SSL_CTX* ctx, SSL_SESSION* session);
  static SessionCache* of(SSL_CTX* ctx);

  void add(std::string id, SSL_SESSION* session, std::string binding);
  SSL_SESSION* find(const std::string& id, const std::string& binding);
  void remove(const std::string& id);
  void erase(std::unordered_map<std::string, Entry>::iterator it);  // lock held

  size_t max_sessions_;
  mutable std::mutex mutex_;  // per handshake, never per request
  std::unordered_map<std::string, Entry> sessions_;
  std::list<std::string> oldest_first_;
};

}  // namespace tether::tls

// A server-side TLS session cache shared by every worker's TLS context: resumption without
// session tickets that carry (and must re-decode) the whole session.
//
// With stateless tickets OpenSSL 3.0 encodes the session, client certificate included, into
// every ticket it issues and decodes it again on every resumption. Here the ticket is only an id
// into this cache, as with nginx's `ssl_session_cache shared:` and `ssl_session_tickets off`:
// the server encodes a session once, when it is made, and decodes it only when it resumes.
//
// Sessions are kept as their DER encoding (i2d_SSL_SESSION), not as decoded SSL_SESSIONs: a
// decoded session holds the client's whole chain as X509 objects with decoded keys, about 13 KiB
// each, where the DER is about a kilobyte (the leaf certificate and a few secrets). The cache is
// sized in bytes, as nginx's is; when an addition would exceed the limit the oldest additions
// are evicted first.
//
// A session resumes only under the server name it was made for (session_binding.h), and only
// under the same session id context (same trust, same verification settings: OpenSSL compares
// the decoded session's context with the connection's). A TLS 1.3 ticket is an id that resumes
// once: the lookup takes the session out, and the resumed connection gets a new ticket. (OpenSSL
// 3.0 does not do that for an external cache: before this cache took sessions out, one ticket
// resumed any number of connections.)
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "x509/handles.h"

namespace tether::tls {

// What /metrics reports about the cache.
struct SessionCacheStats {
  size_t bytes = 0;  // accounted size of the sessions held (SessionCache::entry_bytes)
  size_t sessions = 0;
  size_t limit_bytes = 0;
  uint64_t evictions = 0;  // sessions dropped, oldest first, to stay within the limit
};

class SessionCache {
 public:
  // Heap cost of one entry besides its id, binding and DER, with glibc's malloc on x86-64: the
  // list node (80 bytes: two links, the buffer's std::string, sizes and expiry, plus malloc's
  // header), the index node (48: link, key view, iterator, cached hash), its bucket (8-16), and
  // malloc's rounding and header on the one buffer that holds id, binding and DER (about 16).
  // Measured with mallinfo2 over 1,000 to 30,000 entries: 143 to 156 bytes each.
  static constexpr size_t kEntryOverhead = 160;

  // `limit_bytes`: what the entries may add up to (entry_bytes each); 0 keeps nothing, so every
  // handshake is a full one.
  explicit SessionCache(size_t limit_bytes) : limit_bytes_(limit_bytes) {}
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;

  // Makes `ctx` keep its sessions here (stateful TLS 1.3 tickets, TLS 1.2 session ids). The
  // cache must outlive the context.
  void install(SSL_CTX* ctx);

  // Keeps `session` (encoded) for resumption under `binding`, replacing one with the same id,
  // after evicting the oldest entries it would not fit beside. False when it is not kept: the
  // cache is off, the entry alone is over the limit (counted as an eviction), or it has no id.
  bool add(const SSL_SESSION* session, std::string_view binding, time_t now = std::time(nullptr));
  // A newly decoded session for `id` when one is held, unexpired, and was made under `binding`
  // (else null, and an expired one is dropped). A TLS 1.3 session is taken out, so its ticket
  // resumes once, as SSL_CTX_sess_set_new_cb(3) recommends for TLS 1.3 (and RFC 8446 C.4 asks
  // of clients): OpenSSL 3.0 itself would resume a stateful ticket as often as it is offered.
  x509::SslSessionPtr find(std::string_view id, std::string_view binding,
                           time_t now = std::time(nullptr));
  void remove(std::string_view id);
  // A new limit (reload): the oldest entries are evicted until the rest fit.
  void set_limit(size_t limit_bytes);

  SessionCacheStats stats() const;

  // What an entry is accounted as.
  static size_t entry_bytes(size_t id, size_t binding, size_t der) {
    return id + binding + der + kEntryOverhead;
  }

 private:
  // One session in one buffer: id, then binding, then DER.
  struct Entry {
    std::string data;
    uint16_t id_size;  // at most SSL_MAX_SSL_SESSION_ID_LENGTH
    uint16_t binding_size;
    bool single_use;     // TLS 1.3: the lookup takes it out
    int64_t expires_at;  // unix seconds: the session's time + timeout, checked before decoding

    std::string_view id() const { return std::string_view(data).substr(0, id_size); }
    std::string_view binding() const {
      return std::string_view(data).substr(id_size, binding_size);
    }
    std::string_view der() const {
      return std::string_view(data).substr(size_t{id_size} + binding_size);
    }
    size_t bytes() const { return entry_bytes(id_size, binding_size, der().size()); }
  };
  using Entries = std::list<Entry>;  // oldest addition first; nodes never move

  static int on_new(SSL* ssl, SSL_SESSION* session);
  static SSL_SESSION* on_get(SSL* ssl, const unsigned char* id, int length, int* copy);
  static void on_remove(SSL_CTX* ctx, SSL_SESSION* session);
  static SessionCache* of(SSL_CTX* ctx);

  void erase(Entries::iterator it);      // lock held
  void evict_until(size_t limit_bytes);  // lock held

  mutable std::mutex mutex_;  // per handshake, never per request
  size_t limit_bytes_;
  size_t bytes_ = 0;
  uint64_t evictions_ = 0;
  Entries oldest_first_;
  // Keys view the id inside each entry's buffer.
  std::unordered_map<std::string_view, Entries::iterator> by_id_;
};

}  // namespace tether::tls

#include "tls/session_cache.h"

#include <openssl/err.h>

#include "tls/session_binding.h"

namespace tether::tls {

namespace {

int cache_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string_view id_of(const SSL_SESSION* session) {
  unsigned int length = 0;
  const unsigned char* id = SSL_SESSION_get_id(session, &length);
  return std::string_view(reinterpret_cast<const char*>(id), length);
}

}  // namespace

void SessionCache::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, cache_index(), this);
  // Stateful resumption: TLS 1.3 tickets become ids into this cache (SSL_OP_NO_TICKET), and
  // OpenSSL's own per-context cache is off so that every worker's context shares this one.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(
      ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL | SSL_SESS_CACHE_NO_AUTO_CLEAR);
  SSL_CTX_sess_set_new_cb(ctx, &SessionCache::on_new);
  SSL_CTX_sess_set_get_cb(ctx, &SessionCache::on_get);
  SSL_CTX_sess_set_remove_cb(ctx, &SessionCache::on_remove);
}

SessionCache* SessionCache::of(SSL_CTX* ctx) {
  return static_cast<SessionCache*>(SSL_CTX_get_ex_data(ctx, cache_index()));
}

int SessionCache::on_new(SSL* ssl, SSL_SESSION* session) {
  if (SessionCache* cache = of(SSL_get_SSL_CTX(ssl))) cache->add(session, session_binding(ssl));
  return 0;  // the cache keeps an encoding, not OpenSSL's reference
}

SSL_SESSION* SessionCache::on_get(SSL* ssl, const unsigned char* id, int length, int* copy) {
  // The session returned is a new decoding that nothing else refers to: with *copy = 0 OpenSSL
  // takes this reference over instead of adding its own.
  *copy = 0;
  SessionCache* cache = of(SSL_get_SSL_CTX(ssl));
  if (cache == nullptr || length <= 0) return nullptr;
  std::string_view key(reinterpret_cast<const char*>(id), static_cast<size_t>(length));
  return cache->find(key, session_binding(ssl)).release();
}

void SessionCache::on_remove(SSL_CTX* ctx, SSL_SESSION* session) {
  if (SessionCache* cache = of(ctx)) cache->remove(id_of(session));
}

bool SessionCache::add(const SSL_SESSION* session, std::string_view binding, time_t now) {
  std::string_view id = id_of(session);
  if (id.empty() || binding.size() > UINT16_MAX) return false;
  // Encoded outside the lock: a session with a client certificate is about a kilobyte.
  int der_size = i2d_SSL_SESSION(session, nullptr);
  if (der_size <= 0) return false;
  Entry entry;
  entry.id_size = static_cast<uint16_t>(id.size());
  entry.binding_size = static_cast<uint16_t>(binding.size());
  entry.single_use = SSL_SESSION_get_protocol_version(session) == TLS1_3_VERSION;
  entry.expires_at =
      static_cast<int64_t>(SSL_SESSION_get_time(session)) + SSL_SESSION_get_timeout(session);
  entry.data.reserve(id.size() + binding.size() + static_cast<size_t>(der_size));
  entry.data.append(id).append(binding);
  entry.data.resize(entry.data.size() + static_cast<size_t>(der_size));
  auto* out = reinterpret_cast<unsigned char*>(entry.data.data() + id.size() + binding.size());
  if (i2d_SSL_SESSION(session, &out) != der_size) return false;
  size_t bytes = entry.bytes();

  std::lock_guard lock(mutex_);
  if (auto it = by_id_.find(id); it != by_id_.end()) erase(it->second);
  // Expired sessions at the old end go first: they would only ever miss.
  while (!oldest_first_.empty() && oldest_first_.front().expires_at < now) {
    erase(oldest_first_.begin());
  }
  if (bytes > limit_bytes_) {
    if (limit_bytes_ != 0) ++evictions_;  // dropped for room, as if added and evicted at once
    return false;
  }
  evict_until(limit_bytes_ - bytes);
  auto it = oldest_first_.insert(oldest_first_.end(), std::move(entry));
  by_id_.emplace(it->id(), it);
  bytes_ += bytes;
  return true;
}

x509::SslSessionPtr SessionCache::find(std::string_view id, std::string_view binding, time_t now) {
  std::string der;
  {
    std::lock_guard lock(mutex_);
    auto found = by_id_.find(id);
    if (found == by_id_.end()) return nullptr;
    Entries::iterator it = found->second;
    if (it->expires_at < now) {
      erase(it);
      return nullptr;
    }
    // Made under another server name: a full handshake instead (the session stays for its own).
    if (it->binding() != binding) return nullptr;
    // Copied out so that decoding, the costly part (the certificate's key), runs unlocked.
    der = it->der();
    if (it->single_use) erase(it);
  }
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  // Decoded in the default library context, as OpenSSL 3.0 decodes its own tickets: 3.0 has no
  // d2i_SSL_SESSION_ex (3.2 does; it would take the worker's ServerConfig::library, which no
  // SSL_CTX getter returns). A new object per lookup also keeps to d2i_SSL_SESSION(3): one
  // SSL_SESSION is used with one SSL_CTX, where the workers' contexts once shared one.
  x509::SslSessionPtr session(d2i_SSL_SESSION(nullptr, &in, static_cast<long>(der.size())));
  if (!session) ERR_clear_error();  // cannot happen for our own encoding: a miss, not an error
  return session;
}

void SessionCache::remove(std::string_view id) {
  std::lock_guard lock(mutex_);
  if (auto it = by_id_.find(id); it != by_id_.end()) erase(it->second);
}

void SessionCache::set_limit(size_t limit_bytes) {
  std::lock_guard lock(mutex_);
  limit_bytes_ = limit_bytes;
  evict_until(limit_bytes_);
}

SessionCacheStats SessionCache::stats() const {
  std::lock_guard lock(mutex_);
  return {bytes_, oldest_first_.size(), limit_bytes_, evictions_};
}

void SessionCache::evict_until(size_t limit_bytes) {
  while (!oldest_first_.empty() && bytes_ > limit_bytes) {
    erase(oldest_first_.begin());
    ++evictions_;
  }
}

void SessionCache::erase(Entries::iterator it) {
  bytes_ -= it->bytes();
  by_id_.erase(it->id());
  oldest_first_.erase(it);
}

}  // namespace tether::tls

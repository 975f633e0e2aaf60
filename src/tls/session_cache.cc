#include "tls/session_cache.h"

#include <ctime>

#include "tls/session_binding.h"

namespace tether::tls {

namespace {

int cache_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string id_of(const SSL_SESSION* session) {
  unsigned int length = 0;
  const unsigned char* id = SSL_SESSION_get_id(session, &length);
  return std::string(reinterpret_cast<const char*>(id), length);
}

bool expired(const SSL_SESSION* session) {
  return SSL_SESSION_get_time(session) + SSL_SESSION_get_timeout(session) < std::time(nullptr);
}

}  // namespace

SessionCache::~SessionCache() {
  for (auto& [id, entry] : sessions_) SSL_SESSION_free(entry.session);
}

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
  SessionCache* cache = of(SSL_get_SSL_CTX(ssl));
  if (cache == nullptr) return 0;
  cache->add(id_of(session), session, session_binding(ssl));
  return 1;  // the cache keeps the reference OpenSSL handed over
}

SSL_SESSION* SessionCache::on_get(SSL* ssl, const unsigned char* id, int length, int* copy) {
  *copy = 1;  // OpenSSL takes its own reference to what is returned
  SessionCache* cache = of(SSL_get_SSL_CTX(ssl));
  if (cache == nullptr || length <= 0) return nullptr;
  return cache->find(std::string(reinterpret_cast<const char*>(id), static_cast<size_t>(length)),
                     session_binding(ssl));
}

void SessionCache::on_remove(SSL_CTX* ctx, SSL_SESSION* session) {
  if (SessionCache* cache = of(ctx)) cache->remove(id_of(session));
}

void SessionCache::add(std::string id, SSL_SESSION* session, std::string binding) {
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(id); it != sessions_.end()) erase(it);
  while (!oldest_first_.empty() && sessions_.size() >= max_sessions_) {
    erase(sessions_.find(oldest_first_.front()));
  }
  oldest_first_.push_back(id);
  sessions_.emplace(std::move(id),
                    Entry{session, std::move(binding), std::prev(oldest_first_.end())});
}

SSL_SESSION* SessionCache::find(const std::string& id, const std::string& binding) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  if (expired(it->second.session)) {
    erase(it);
    return nullptr;
  }
  // Made under another server name: a full handshake instead (the session stays for its own).
  if (it->second.binding != binding) return nullptr;
  return it->second.session;
}

void SessionCache::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(id); it != sessions_.end()) erase(it);
}

void SessionCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  SSL_SESSION_free(it->second.session);
  oldest_first_.erase(it->second.age);
  sessions_.erase(it);
}

}  // namespace tether::tls

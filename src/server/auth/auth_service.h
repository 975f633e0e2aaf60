// The API's admin authentication: users with Argon2id passwords, login sessions in a cookie,
// API tokens, admin client certificates, and the routes that manage them.
//
// Credentials:
//   API token       Authorization: Bearer tth_<id>_<secret>, where <id> is 16 lowercase hex
//                   digits (looked up) and <secret> 43 base64url characters (256 bits, compared
//                   in constant time against its stored SHA-256).
//   session         the cookie tether_session (256 random bits, base64url), set by POST
//                   /v1/login; HttpOnly, Secure, SameSite=Strict. The store keeps its SHA-256.
//                   A state-changing request on a session also carries X-CSRF-Token: the
//                   login response's csrf_token, HMAC-SHA256(session id, label), so it needs no
//                   storage and only a holder of the cookie can compute it.
//   admin cert      a client certificate admin/<name> (already verified by the TLS layer).
//
// Thread safety: an AuthService holds only its settings; every call takes the store handle of
// the calling thread, so one service serves every thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "server/auth/authenticator.h"
#include "server/auth/password.h"
#include "server/router.h"

namespace tether::server {

inline constexpr std::string_view kSessionCookie = "tether_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
inline constexpr std::string_view kTokenPrefix = "tth_";

struct AuthSettings {
  // A session ends when unused this long, and this long after login however much it is used.
  int64_t session_idle_timeout_s = 30 * 60;
  int64_t session_absolute_timeout_s = 12 * 60 * 60;
  // A session's last use is written at most this often: every request would otherwise be a
  // write, while the idle timeout only needs minutes.
  int64_t session_touch_interval_s = 60;
  // Login rate limiting: this many failures within the window lock the user name, and
  // separately the client address, until the oldest of them leaves the window.
  int max_login_failures = 10;
  int64_t login_failure_window_s = 15 * 60;
  size_t min_password_length = 12;  // characters (UTF-8 code points)
  int64_t max_token_lifetime_days = 365;
  // Argon2id's costs: Argon2Params::insecure_for_tests() only in tests.
  Argon2Params password_hash = Argon2Params::recommended();
};

class AuthService final : public Authenticator {
 public:
  // Errc::invalid_argument naming a setting that is out of range; an error when the password
  // hasher cannot be built with settings.password_hash. On the heap and never moved: the
  // routes' handlers point at it.
  static Result<std::unique_ptr<AuthService>> create(AuthSettings settings = {});
  AuthService(const AuthService&) = delete;
  AuthService& operator=(const AuthService&) = delete;

  // When no user exists: creates "admin", an operator who must change the password at first
  // login, and returns its one-time password (128 random bits, base64url) for the server to
  // print once. nullopt when some user exists. Audited as user.create by "server".
  Result<std::optional<std::string>> bootstrap_operator(store::Store& store, int64_t now) const;

  Result<Principal> authenticate(const Request& request, const Peer& peer, store::Store& store,
                                 int64_t now) override;

  // POST /v1/login, POST /v1/logout, GET /v1/me, POST /v1/password, POST and GET /v1/tokens,
  // DELETE /v1/tokens/{id}, POST and GET /v1/users. The handlers capture this service, which
  // must outlive the router.
  std::vector<RouteSpec> routes() const;

  const AuthSettings& settings() const { return settings_; }

 private:
  AuthService(AuthSettings settings, PasswordHasher hasher)
      : settings_(std::move(settings)), hasher_(std::move(hasher)) {}

  Result<Principal> session_principal(const Request& request, const std::string& session_id,
                                      store::Store& store, int64_t now) const;
  Result<Principal> token_principal(std::string_view token, store::Store& store, int64_t now) const;

  Result<Response> login(ApiContext& ctx) const;
  Result<Response> logout(ApiContext& ctx) const;
  Result<Response> me(ApiContext& ctx) const;
  Result<Response> change_password(ApiContext& ctx) const;
  Result<Response> create_token(ApiContext& ctx) const;
  Result<Response> list_tokens(ApiContext& ctx) const;
  Result<Response> revoke_token(ApiContext& ctx) const;
  Result<Response> create_user(ApiContext& ctx) const;
  Result<Response> list_users(ApiContext& ctx) const;

  // Until when logins for the user name, or from the address, are locked; nullopt when
  // neither is.
  Result<std::optional<int64_t>> locked_until(store::Store& store, const std::string& user,
                                              const std::string& address, int64_t now) const;
  Status record_failure(store::Store& store, const std::string& user, const std::string& address,
                        int64_t now) const;

  AuthSettings settings_;
  PasswordHasher hasher_;
};

// The session id a request's Cookie header carries, if any.
std::optional<std::string> session_cookie(const Request& request);

}  // namespace tether::server

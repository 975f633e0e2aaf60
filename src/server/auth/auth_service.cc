#include "server/auth/auth_service.h"

#include <boost/json.hpp>

#include "common/time_format.h"
#include "server/auth/secrets.h"
#include "server/problem.h"
#include "server/responses.h"
#include "verify/identity.h"

namespace tether::server {

namespace json = boost::json;

namespace {

constexpr int64_t kSecondsPerDay = 24 * 60 * 60;
// 256 bits: a session id or token secret nobody can guess or enumerate.
constexpr size_t kSecretBytes = 32;
// 128 bits, the floor for a one-time password that is only ever typed once.
constexpr size_t kOneTimePasswordBytes = 16;
constexpr size_t kTokenIdBytes = 8;
constexpr size_t kTokenIdDigits = 2 * kTokenIdBytes;
constexpr int64_t kDefaultTokenLifetimeDays = 90;
// A user name as typed at login is stored for rate limiting; this much of it is enough.
constexpr size_t kMaxRecordedUserName = 128;
// The label the CSRF token is derived under: a change of scheme changes the label.
constexpr std::string_view kCsrfLabel = "tether csrf token v1";

const std::string_view kBootstrapUser = "admin";

Error unauthenticated(std::string message) {
  return make_error(Errc::unauthenticated, std::move(message));
}

std::string csrf_token(const std::string& session_id) {
  return hmac_sha256_base64url(session_id, kCsrfLabel);
}

bool changes_state(http::verb method) {
  return method != http::verb::get && method != http::verb::head && method != http::verb::options;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? char(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? char(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string json_quote(std::string_view s) {
  return json::serialize(json::string(s));
}

store::AuditEvent audit(int64_t at, const std::string& actor, std::string action,
                        std::string identity, json::object detail = {}) {
  return store::AuditEvent{
      at, actor, std::move(action), std::move(identity), "", json::serialize(detail)};
}

std::string user_identity(std::string_view name) {
  return "user/" + std::string(name);
}

std::string token_identity(std::string_view id) {
  return "token/" + std::string(id);
}

// User names: 1-64 of [a-z0-9._-], starting with a letter or digit (they appear in audit
// actors, "user:<name>", and in URLs).
Status validate_user_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (size_t i = 0; ok && i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    ok = alnum || (i > 0 && (c == '.' || c == '_' || c == '-'));
  }
  if (ok) return ok_status();
  return make_field_error(Errc::invalid_argument, "body.name",
                          "user name " + json_quote(name) +
                              " is not valid: 1-64 characters of a-z, 0-9, '.', '_', '-', "
                              "starting with a letter or digit");
}

Result<Role> parse_role(const std::string& name) {
  auto role = role_from_name(name);
  if (!role) {
    return make_field_error(Errc::invalid_argument, "body.role",
                            "role " + json_quote(name) + " is not one of operator, tenant-admin");
  }
  return *role;
}

// The tenant a new user or token with `role` belongs to, as `principal` may create it:
// operators create anything; a tenant-admin only tenant-admins of its own tenant.
Result<std::string> grant_tenant(const Principal& principal, Role role,
                                 const std::optional<std::string>& tenant, store::Store& store,
                                 std::string_view what) {
  if (!principal.is_operator()) {
    if (role != Role::tenant_admin || (tenant && *tenant != principal.tenant)) {
      return make_error(Errc::forbidden, "a tenant-admin may create " + std::string(what) +
                                             " only with role tenant-admin for its own tenant '" +
                                             principal.tenant + "'");
    }
    return principal.tenant;
  }
  if (role == Role::operator_role) {
    if (tenant) {
      return make_field_error(Errc::invalid_argument, "body.tenant",
                              "an operator belongs to no tenant: leave 'tenant' out, or give "
                              "role tenant-admin");
    }
    return std::string();
  }
  if (!tenant) {
    return make_field_error(Errc::invalid_argument, "body.tenant",
                            "role tenant-admin needs 'tenant': the tenant it administers");
  }
  Status valid = verify::validate_id(*tenant, "tenant id");
  if (!valid) {
    Error e = std::move(valid).error();
    e.field = "body.tenant";
    return e;
  }
  TETHER_ASSIGN_OR_RETURN(bool exists, store.tenant_exists(*tenant));
  if (!exists) {
    return make_field_error(Errc::not_found, "body.tenant",
                            "tenant '" + *tenant + "' does not exist: create it first");
  }
  return *tenant;
}

std::string session_cookie_header(const std::string& session_id, int64_t max_age) {
  return std::string(kSessionCookie) + "=" + session_id +
         "; Path=/; Max-Age=" + std::to_string(max_age) + "; HttpOnly; Secure; SameSite=Strict";
}

json::value optional_time(const std::optional<int64_t>& t) {
  if (!t) return nullptr;
  return json::value(format_rfc3339(*t));
}

json::object token_json(const store::ApiTokenRecord& t, int64_t now) {
  std::string_view status = t.revoked_at ? "revoked" : now >= t.expires_at ? "expired" : "active";
  return json::object{
      {"id", t.id},
      {"name", t.name},
      {"role", t.role},
      {"tenant", t.tenant.empty() ? json::value(nullptr) : json::value(t.tenant)},
      {"created_by", t.created_by},
      {"created_at", format_rfc3339(t.created_at)},
      {"expires_at", format_rfc3339(t.expires_at)},
      {"revoked_at", optional_time(t.revoked_at)},
      {"last_used_at", optional_time(t.last_used_at)},
      {"status", status},
  };
}

json::value tenant_json(const std::string& tenant) {
  return tenant.empty() ? json::value(nullptr) : json::value(tenant);
}

// The user a session principal acts for ("user:alice" -> "alice").
std::optional<std::string> session_user(const std::optional<Principal>& principal) {
  constexpr std::string_view kPrefix = "user:";
  if (!principal || principal->via != Credential::session ||
      principal->actor.rfind(kPrefix, 0) != 0) {
    return std::nullopt;
  }
  return principal->actor.substr(kPrefix.size());
}

Response too_many_attempts(int64_t until, int64_t now, const AuthSettings& settings) {
  int64_t wait = std::max<int64_t>(1, until - now);
  Response res = problem_response(make_error(
      Errc::too_many_attempts,
      "login is locked for this user name or from this address after " +
          std::to_string(settings.max_login_failures) + " failed attempts within " +
          std::to_string(settings.login_failure_window_s / 60) + " minutes: try again after " +
          format_rfc3339(now + wait) + " (in " + std::to_string(wait) + " s)"));
  res.set(http::field::retry_after, std::to_string(wait));
  return res;
}

}  // namespace

std::optional<std::string> session_cookie(const Request& request) {
  // RFC 6265 5.4: "name=value" pairs separated by "; "; a browser sends one Cookie header.
  auto [first, last] = request.equal_range(http::field::cookie);
  for (auto field = first; field != last; ++field) {
    std::string_view rest = field->value();
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != kSessionCookie) continue;
      std::string_view value = trim(pair.substr(eq + 1));
      if (!value.empty()) return std::string(value);
    }
  }
  return std::nullopt;
}

Result<std::unique_ptr<AuthService>> AuthService::create(AuthSettings settings) {
  auto positive = [](int64_t v, std::string_view name) -> Status {
    if (v > 0) return ok_status();
    return make_error(Errc::invalid_argument, "auth setting " + std::string(name) + " = " +
                                                  std::to_string(v) + ": must be positive");
  };
  TETHER_TRY(positive(settings.session_idle_timeout_s, "session_idle_timeout_s"));
  TETHER_TRY(positive(settings.session_absolute_timeout_s, "session_absolute_timeout_s"));
  TETHER_TRY(positive(settings.session_touch_interval_s, "session_touch_interval_s"));
  TETHER_TRY(positive(settings.max_login_failures, "max_login_failures"));
  TETHER_TRY(positive(settings.login_failure_window_s, "login_failure_window_s"));
  TETHER_TRY(positive(static_cast<int64_t>(settings.min_password_length), "min_password_length"));
  TETHER_TRY(positive(settings.max_token_lifetime_days, "max_token_lifetime_days"));
  TETHER_ASSIGN_OR_RETURN(auto hasher, PasswordHasher::create(settings.password_hash));
  return std::unique_ptr<AuthService>(new AuthService(std::move(settings), std::move(hasher)));
}

Result<std::optional<std::string>> AuthService::bootstrap_operator(store::Store& store,
                                                                   int64_t now) const {
  TETHER_ASSIGN_OR_RETURN(bool any, store.has_users());
  if (any) return std::optional<std::string>();
  TETHER_ASSIGN_OR_RETURN(std::string password, random_base64url(kOneTimePasswordBytes));
  TETHER_ASSIGN_OR_RETURN(std::string hash, hasher_.hash(password));
  store::UserRecord user{std::string(kBootstrapUser),
                         std::move(hash),
                         std::string(role_name(Role::operator_role)),
                         "",
                         true,
                         now,
                         false};
  TETHER_ASSIGN_OR_RETURN(
      bool created,
      store.create_first_user(user, audit(now, "server", "user.create", user_identity(user.name),
                                          {{"role", user.role}, {"bootstrap", true}})));
  if (!created) return std::optional<std::string>();
  return std::optional<std::string>(std::move(password));
}

Result<Principal> AuthService::authenticate(const Request& request, const Peer& peer,
                                            store::Store& store, int64_t now) {
  std::string_view authorization = request[http::field::authorization];
  if (!authorization.empty()) {
    // RFC 9110 11.1: the scheme is case-insensitive.
    constexpr std::string_view kBearer = "bearer ";
    if (authorization.size() <= kBearer.size() ||
        !iequals(authorization.substr(0, kBearer.size()), kBearer)) {
      return unauthenticated(
          "the Authorization header's scheme is not accepted: send 'Authorization: Bearer "
          "<API token>'");
    }
    return token_principal(trim(authorization.substr(kBearer.size())), store, now);
  }
  if (auto session_id = session_cookie(request)) {
    return session_principal(request, *session_id, store, now);
  }
  if (peer.certificate_identity) {
    const verify::Identity& identity = *peer.certificate_identity;
    if (identity.kind == verify::IdentityKind::admin) {
      return Principal{"admin:" + identity.name, Role::operator_role, "",
                       Credential::admin_certificate, false};
    }
    return unauthenticated("client certificate " + identity.common_name() +
                           " is not an admin certificate, and the request carries no other "
                           "credential: log in with POST /v1/login or send 'Authorization: "
                           "Bearer <API token>'");
  }
  return unauthenticated(
      "the request carries no credential: log in with POST /v1/login, send 'Authorization: "
      "Bearer <API token>', or present an admin client certificate");
}

Result<Principal> AuthService::token_principal(std::string_view token, store::Store& store,
                                               int64_t now) const {
  // tth_<16 hex digits>_<secret>: the id is fixed-length, so the secret may contain '_'.
  bool shaped = token.size() > kTokenPrefix.size() + kTokenIdDigits + 1 &&
                token.substr(0, kTokenPrefix.size()) == kTokenPrefix &&
                token[kTokenPrefix.size() + kTokenIdDigits] == '_' &&
                is_lower_hex(token.substr(kTokenPrefix.size(), kTokenIdDigits));
  if (!shaped) {
    return unauthenticated("the bearer token is not a tether API token (tth_<id>_<secret>)");
  }
  std::string id(token.substr(kTokenPrefix.size(), kTokenIdDigits));
  std::string_view secret = token.substr(kTokenPrefix.size() + kTokenIdDigits + 1);
  TETHER_ASSIGN_OR_RETURN(auto record, store.find_api_token(id));
  if (!record) return unauthenticated("API token " + id + " is not known");
  // The secret is checked first: whether a token was revoked or expired is only told to its
  // holder.
  if (!secrets_equal(sha256_hex(secret), record->secret_hash)) {
    return unauthenticated("API token " + id + ": the secret is not the token's");
  }
  if (record->revoked_at) {
    return unauthenticated("API token " + id + " was revoked at " +
                           format_rfc3339(*record->revoked_at) + ": create a new one");
  }
  if (now >= record->expires_at) {
    return unauthenticated("API token " + id + " expired at " + format_rfc3339(record->expires_at) +
                           ": create a new one");
  }
  auto role = role_from_name(record->role);
  if (!role) {
    return make_error(Errc::store_error, "API token " + id + " has role '" + record->role +
                                             "', which tether does not know");
  }
  if (!record->last_used_at || now - *record->last_used_at >= settings_.session_touch_interval_s) {
    TETHER_TRY(store.touch_api_token(id, now));
  }
  return Principal{"token:" + id, *role, record->tenant, Credential::api_token, false};
}

Result<Principal> AuthService::session_principal(const Request& request,
                                                 const std::string& session_id, store::Store& store,
                                                 int64_t now) const {
  std::string id_hash = sha256_hex(session_id);
  TETHER_ASSIGN_OR_RETURN(auto session, store.find_session(id_hash));
  if (!session) return unauthenticated("the session is not known or has ended: log in again");
  if (now - session->created_at >= settings_.session_absolute_timeout_s) {
    return unauthenticated("the session expired " +
                           std::to_string(settings_.session_absolute_timeout_s / 60) +
                           " minutes after login: log in again");
  }
  if (now - session->last_used_at >= settings_.session_idle_timeout_s) {
    return unauthenticated("the session expired after " +
                           std::to_string(settings_.session_idle_timeout_s / 60) +
                           " minutes without use: log in again");
  }
  TETHER_ASSIGN_OR_RETURN(auto user, store.find_user(session->user));
  if (!user || user->disabled) {
    return unauthenticated("the session's user '" + session->user +
                           "' no longer exists or is disabled");
  }
  // A session rides on a cookie the browser adds to any request, also one another site
  // triggers; the CSRF token proves the request came from a page that read the login answer.
  if (changes_state(request.method())) {
    std::string_view sent = request[kCsrfHeader];
    if (sent.empty()) {
      return make_error(Errc::csrf_token_missing,
                        "a state-changing request on a session needs the X-CSRF-Token header: "
                        "send the csrf_token the login (or GET /v1/me) answered");
    }
    if (!secrets_equal(sent, csrf_token(session_id))) {
      return make_error(Errc::csrf_token_missing,
                        "the X-CSRF-Token header is not this session's token: send the "
                        "csrf_token the login (or GET /v1/me) answered");
    }
  }
  auto role = role_from_name(user->role);
  if (!role) {
    return make_error(Errc::store_error, "user '" + user->name + "' has role '" + user->role +
                                             "', which tether does not know");
  }
  if (now - session->last_used_at >= settings_.session_touch_interval_s) {
    TETHER_TRY(store.touch_session(id_hash, now));
  }
  return Principal{"user:" + user->name, *role, user->tenant, Credential::session,
                   user->must_change_password};
}

std::vector<RouteSpec> AuthService::routes() const {
  auto bind = [this](Result<Response> (AuthService::*method)(ApiContext&) const) -> Handler {
    return [this, method](ApiContext& ctx) { return (this->*method)(ctx); };
  };
  return {
      {http::verb::post, "/v1/login", Access::public_access, bind(&AuthService::login)},
      {http::verb::post, "/v1/logout", Access::authenticated_pending_password,
       bind(&AuthService::logout)},
      {http::verb::get, "/v1/me", Access::authenticated_pending_password, bind(&AuthService::me)},
      {http::verb::post, "/v1/password", Access::authenticated_pending_password,
       bind(&AuthService::change_password)},
      {http::verb::post, "/v1/tokens", Access::authenticated, bind(&AuthService::create_token)},
      {http::verb::get, "/v1/tokens", Access::authenticated, bind(&AuthService::list_tokens)},
      {http::verb::delete_, "/v1/tokens/{id}", Access::authenticated,
       bind(&AuthService::revoke_token)},
      {http::verb::post, "/v1/users", Access::authenticated, bind(&AuthService::create_user)},
      {http::verb::get, "/v1/users", Access::authenticated, bind(&AuthService::list_users)},
  };
}

Result<std::optional<int64_t>> AuthService::locked_until(store::Store& store,
                                                         const std::string& user,
                                                         const std::string& address,
                                                         int64_t now) const {
  // A failure at `at` counts while now < at + window. With `max` or more counted, the lock
  // lasts until the max-th newest stops counting: then only max - 1 remain.
  const int64_t since = now - settings_.login_failure_window_s + 1;
  const int max = settings_.max_login_failures;
  std::optional<int64_t> until;
  TETHER_ASSIGN_OR_RETURN(auto by_user, store.login_failures_for_user(user, since, max));
  if (static_cast<int>(by_user.size()) >= max) {
    until = by_user.back() + settings_.login_failure_window_s;
  }
  TETHER_ASSIGN_OR_RETURN(auto by_address, store.login_failures_from_address(address, since, max));
  if (static_cast<int>(by_address.size()) >= max) {
    until = std::max(until.value_or(0), by_address.back() + settings_.login_failure_window_s);
  }
  return until;
}

Status AuthService::record_failure(store::Store& store, const std::string& user,
                                   const std::string& address, int64_t now) const {
  return store.record_login_failure(user.substr(0, kMaxRecordedUserName), address, now,
                                    now - settings_.login_failure_window_s);
}

Result<Response> AuthService::login(ApiContext& ctx) const {
  TETHER_ASSIGN_OR_RETURN(auto body, json_body(ctx.request));
  TETHER_TRY(only_members(body, {"user", "password"}));
  TETHER_ASSIGN_OR_RETURN(std::string name, required_string(body, "user"));
  TETHER_ASSIGN_OR_RETURN(std::string password, required_string(body, "password"));
  const std::string& address = ctx.peer.address;
  std::string counted_name = name.substr(0, kMaxRecordedUserName);

  // While locked, not even the right password gets in: the lock is what stops guessing.
  TETHER_ASSIGN_OR_RETURN(auto locked, locked_until(ctx.store, counted_name, address, ctx.now));
  if (locked) return too_many_attempts(*locked, ctx.now, settings_);

  TETHER_ASSIGN_OR_RETURN(auto user, ctx.store.find_user(name));
  bool ok = false;
  if (user && !user->disabled) {
    ok = hasher_.verify(user->password_hash, password);
  } else {
    hasher_.verify_nothing(password);  // the same time as for a user who exists
  }
  if (!ok) {
    TETHER_TRY(record_failure(ctx.store, counted_name, address, ctx.now));
    return unauthenticated("the user name or password is not right");
  }

  TETHER_TRY(ctx.store.clear_login_failures(counted_name));
  TETHER_TRY(ctx.store.delete_expired_sessions(ctx.now - settings_.session_idle_timeout_s,
                                               ctx.now - settings_.session_absolute_timeout_s));
  TETHER_ASSIGN_OR_RETURN(std::string session_id, random_base64url(kSecretBytes));
  store::SessionRecord session{sha256_hex(session_id), user->name, ctx.now, ctx.now};
  TETHER_TRY(
      ctx.store.create_session(session, audit(ctx.now, "user:" + user->name, "user.login",
                                              user_identity(user->name), {{"address", address}})));

  Response res =
      json_response(http::status::ok, json::object{
                                          {"user", user->name},
                                          {"role", user->role},
                                          {"tenant", tenant_json(user->tenant)},
                                          {"password_change_required", user->must_change_password},
                                          {"csrf_token", csrf_token(session_id)},
                                      });
  res.set(http::field::set_cookie,
          session_cookie_header(session_id, settings_.session_absolute_timeout_s));
  res.set(http::field::cache_control, "no-store");
  return res;
}

Result<Response> AuthService::logout(ApiContext& ctx) const {
  Response res = no_content();
  auto user = session_user(ctx.principal);
  auto session_id = session_cookie(ctx.request);
  if (!user || !session_id) return res;  // a token or certificate has no session to end
  TETHER_TRY(ctx.store.delete_session(
      sha256_hex(*session_id),
      audit(ctx.now, ctx.principal->actor, "user.logout", user_identity(*user))));
  res.set(http::field::set_cookie, session_cookie_header("", 0));
  return res;
}

Result<Response> AuthService::me(ApiContext& ctx) const {
  const Principal& p = *ctx.principal;
  std::string_view via = p.via == Credential::session     ? "session"
                         : p.via == Credential::api_token ? "api_token"
                                                          : "admin_certificate";
  json::object body{
      {"actor", p.actor},
      {"role", role_name(p.role)},
      {"tenant", tenant_json(p.tenant)},
      {"via", via},
      {"password_change_required", p.password_change_required},
  };
  if (auto user = session_user(ctx.principal)) {
    body["user"] = *user;
    if (auto session_id = session_cookie(ctx.request)) body["csrf_token"] = csrf_token(*session_id);
  }
  Response res = json_response(http::status::ok, body);
  res.set(http::field::cache_control, "no-store");
  return res;
}

Result<Response> AuthService::change_password(ApiContext& ctx) const {
  auto name = session_user(ctx.principal);
  auto session_id = session_cookie(ctx.request);
  if (!name || !session_id) {
    return make_error(Errc::forbidden,
                      "a password is changed in a session of its user: log in with POST "
                      "/v1/login first (" +
                          ctx.principal->actor + " is not a user's session)");
  }
  TETHER_ASSIGN_OR_RETURN(auto body, json_body(ctx.request));
  TETHER_TRY(only_members(body, {"current_password", "new_password"}));
  TETHER_ASSIGN_OR_RETURN(std::string current, required_string(body, "current_password"));
  TETHER_ASSIGN_OR_RETURN(std::string next, required_string(body, "new_password"));

  // The current password is a guess like a login's: it counts against the same limits.
  TETHER_ASSIGN_OR_RETURN(auto locked, locked_until(ctx.store, *name, ctx.peer.address, ctx.now));
  if (locked) return too_many_attempts(*locked, ctx.now, settings_);
  TETHER_ASSIGN_OR_RETURN(auto user, ctx.store.find_user(*name));
  if (!user) return unauthenticated("user '" + *name + "' no longer exists");
  if (!hasher_.verify(user->password_hash, current)) {
    TETHER_TRY(record_failure(ctx.store, *name, ctx.peer.address, ctx.now));
    return make_field_error(Errc::forbidden, "body.current_password",
                            "the current password is not right");
  }
  if (code_points(next) < settings_.min_password_length) {
    return make_field_error(Errc::invalid_argument, "body.new_password",
                            "the new password has " + std::to_string(code_points(next)) +
                                " characters: it needs at least " +
                                std::to_string(settings_.min_password_length));
  }
  if (next.size() > kMaxPasswordBytes) {
    return make_field_error(
        Errc::invalid_argument, "body.new_password",
        "the new password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (secrets_equal(next, current)) {
    return make_field_error(Errc::invalid_argument, "body.new_password",
                            "the new password is the current one: choose a different one");
  }
  TETHER_ASSIGN_OR_RETURN(std::string hash, hasher_.hash(next));
  TETHER_TRY(ctx.store.set_password(
      *name, hash, false, sha256_hex(*session_id),
      audit(ctx.now, ctx.principal->actor, "user.password_change", user_identity(*name))));
  TETHER_TRY(ctx.store.clear_login_failures(*name));
  return no_content();
}

Result<Response> AuthService::create_token(ApiContext& ctx) const {
  const Principal& p = *ctx.principal;
  TETHER_ASSIGN_OR_RETURN(auto body, json_body(ctx.request));
  TETHER_TRY(only_members(body, {"name", "role", "tenant", "expires_in_days"}));
  TETHER_ASSIGN_OR_RETURN(std::string name, required_string(body, "name"));
  if (code_points(name) > 100) {
    return make_field_error(Errc::invalid_argument, "body.name",
                            "a token's name may have at most 100 characters");
  }
  TETHER_ASSIGN_OR_RETURN(std::string role_text, required_string(body, "role"));
  TETHER_ASSIGN_OR_RETURN(Role role, parse_role(role_text));
  TETHER_ASSIGN_OR_RETURN(auto tenant_given, optional_string(body, "tenant"));
  TETHER_ASSIGN_OR_RETURN(auto days_given, optional_int(body, "expires_in_days"));
  int64_t days = days_given.value_or(kDefaultTokenLifetimeDays);
  if (days < 1 || days > settings_.max_token_lifetime_days) {
    return make_field_error(Errc::invalid_argument, "body.expires_in_days",
                            "expires_in_days = " + std::to_string(days) + ": must be 1 to " +
                                std::to_string(settings_.max_token_lifetime_days));
  }
  TETHER_ASSIGN_OR_RETURN(std::string tenant,
                          grant_tenant(p, role, tenant_given, ctx.store, "API tokens"));

  TETHER_ASSIGN_OR_RETURN(std::string id, random_hex(kTokenIdBytes));
  TETHER_ASSIGN_OR_RETURN(std::string secret, random_base64url(kSecretBytes));
  store::ApiTokenRecord record;
  record.id = id;
  record.secret_hash = sha256_hex(secret);
  record.name = name;
  record.role = std::string(role_name(role));
  record.tenant = tenant;
  record.created_by = p.actor;
  record.created_at = ctx.now;
  record.expires_at = ctx.now + days * kSecondsPerDay;
  TETHER_TRY(ctx.store.create_api_token(
      record, audit(ctx.now, p.actor, "token.create", token_identity(id),
                    {{"name", name},
                     {"role", record.role},
                     {"tenant", tenant_json(tenant)},
                     {"expires_at", format_rfc3339(record.expires_at)}})));

  json::object out = token_json(record, ctx.now);
  // The only time the token is shown: the store keeps its hash.
  out["token"] = std::string(kTokenPrefix) + id + "_" + secret;
  Response res = json_response(http::status::created, out);
  res.set(http::field::cache_control, "no-store");
  return res;
}

Result<Response> AuthService::list_tokens(ApiContext& ctx) const {
  const Principal& p = *ctx.principal;
  std::optional<std::string> tenant;
  if (!p.is_operator()) tenant = p.tenant;
  TETHER_ASSIGN_OR_RETURN(auto tokens, ctx.store.list_api_tokens(tenant));
  json::array list;
  for (const auto& t : tokens) list.push_back(token_json(t, ctx.now));
  return json_response(http::status::ok, json::object{{"tokens", std::move(list)}});
}

Result<Response> AuthService::revoke_token(ApiContext& ctx) const {
  const Principal& p = *ctx.principal;
  const std::string& id = ctx.param("id");
  TETHER_ASSIGN_OR_RETURN(auto token, ctx.store.find_api_token(id));
  // Another tenant's token is answered as missing: its existence is none of this tenant's
  // business.
  if (!token || !p.can_access_tenant(token->tenant)) {
    return make_error(Errc::not_found,
                      "no API token '" + id + "'" +
                          (p.is_operator() ? "" : " in tenant '" + p.tenant + "'") +
                          ": GET /v1/tokens lists them");
  }
  TETHER_TRY(ctx.store.revoke_api_token(
      id, ctx.now,
      audit(ctx.now, p.actor, "token.revoke", token_identity(id), {{"name", token->name}})));
  return no_content();
}

Result<Response> AuthService::create_user(ApiContext& ctx) const {
  const Principal& p = *ctx.principal;
  if (!p.is_operator()) {
    return make_error(Errc::forbidden, "creating users needs the operator role; " + p.actor +
                                           " is a tenant-admin of '" + p.tenant + "'");
  }
  TETHER_ASSIGN_OR_RETURN(auto body, json_body(ctx.request));
  TETHER_TRY(only_members(body, {"name", "role", "tenant"}));
  TETHER_ASSIGN_OR_RETURN(std::string name, required_string(body, "name"));
  TETHER_TRY(validate_user_name(name));
  TETHER_ASSIGN_OR_RETURN(std::string role_text, required_string(body, "role"));
  TETHER_ASSIGN_OR_RETURN(Role role, parse_role(role_text));
  TETHER_ASSIGN_OR_RETURN(auto tenant_given, optional_string(body, "tenant"));
  TETHER_ASSIGN_OR_RETURN(std::string tenant,
                          grant_tenant(p, role, tenant_given, ctx.store, "users"));

  TETHER_ASSIGN_OR_RETURN(std::string password, random_base64url(kOneTimePasswordBytes));
  TETHER_ASSIGN_OR_RETURN(std::string hash, hasher_.hash(password));
  store::UserRecord user{name, std::move(hash), std::string(role_name(role)), tenant, true, ctx.now,
                         false};
  TETHER_TRY(
      ctx.store.create_user(user, audit(ctx.now, p.actor, "user.create", user_identity(name),
                                        {{"role", user.role}, {"tenant", tenant_json(tenant)}})));
  Response res = json_response(http::status::created, json::object{
                                                          {"name", name},
                                                          {"role", user.role},
                                                          {"tenant", tenant_json(tenant)},
                                                          {"password", password},
                                                          {"password_change_required", true},
                                                          {"created_at", format_rfc3339(ctx.now)},
                                                      });
  res.set(http::field::cache_control, "no-store");
  return res;
}

Result<Response> AuthService::list_users(ApiContext& ctx) const {
  const Principal& p = *ctx.principal;
  if (!p.is_operator()) {
    return make_error(Errc::forbidden, "listing users needs the operator role; " + p.actor +
                                           " is a tenant-admin of '" + p.tenant + "'");
  }
  TETHER_ASSIGN_OR_RETURN(auto users, ctx.store.list_users());
  json::array list;
  for (const auto& u : users) {
    list.push_back(json::object{
        {"name", u.name},
        {"role", u.role},
        {"tenant", tenant_json(u.tenant)},
        {"password_change_required", u.must_change_password},
        {"created_at", format_rfc3339(u.created_at)},
        {"disabled", u.disabled},
    });
  }
  return json_response(http::status::ok, json::object{{"users", std::move(list)}});
}

}  // namespace tether::server

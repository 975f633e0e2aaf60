// The API server's admin accounts: users and their password hashes, login sessions, API tokens
// and recent login failures (for rate limiting).
//
// The store keeps only hashes of secrets: a session is found by the SHA-256 of its id, a token's
// secret by its SHA-256, a password by its Argon2id encoding. Hashing and checking are the
// server's (server/auth); the store never sees a secret.
//
// Each mutating call that an administrator would want to account for takes its AuditEvent and
// records it in the same transaction (as the other store interfaces do). Bookkeeping writes
// (touching a session, counting a failed login, pruning expired sessions) are not audited.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "store/records.h"

namespace tether::store {

struct UserRecord {
  std::string name;
  std::string password_hash;  // Argon2id, PHC encoded string ("$argon2id$v=19$...")
  std::string role;           // "operator" or "tenant-admin"
  std::string tenant;         // a tenant-admin's tenant; empty for an operator
  bool must_change_password = false;
  int64_t created_at = 0;
  bool disabled = false;
};

struct SessionRecord {
  std::string id_hash;  // lowercase hex SHA-256 of the session id the cookie carries
  std::string user;
  int64_t created_at = 0;
  int64_t last_used_at = 0;
};

struct ApiTokenRecord {
  std::string id;           // public part of the token, as it appears in it
  std::string secret_hash;  // lowercase hex SHA-256 of the token's secret
  std::string name;         // what the creator called it
  std::string role;         // "operator" or "tenant-admin"
  std::string tenant;       // empty for an operator token
  std::string created_by;   // the creator's audit actor
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> revoked_at = std::nullopt;
  std::optional<int64_t> last_used_at = std::nullopt;
};

class AuthStore {
 public:
  virtual ~AuthStore() = default;

  // Whether any user exists (the server creates the first operator when none does).
  virtual Result<bool> has_users() = 0;
  // Errc::already_exists when a user of that name exists (nothing is then written).
  virtual Status create_user(const UserRecord& user, const AuditEvent& event) = 0;
  // Creates `user` only when no user exists at all; false (nothing written) when one does. Two
  // servers starting on one fresh store create one first user between them.
  virtual Result<bool> create_first_user(const UserRecord& user, const AuditEvent& event) = 0;
  virtual Result<std::optional<UserRecord>> find_user(const std::string& name) = 0;
  // By name.
  virtual Result<std::vector<UserRecord>> list_users() = 0;
  // Replaces the password hash and the must-change flag, and ends every session of the user but
  // `keep_session_hash` (the one that changed it; empty: end them all). Errc::not_found when
  // there is no such user.
  virtual Status set_password(const std::string& user, const std::string& password_hash,
                              bool must_change_password, const std::string& keep_session_hash,
                              const AuditEvent& event) = 0;

  virtual Status create_session(const SessionRecord& session, const AuditEvent& event) = 0;
  virtual Result<std::optional<SessionRecord>> find_session(const std::string& id_hash) = 0;
  // Records a use of the session (its idle timeout counts from the last one).
  virtual Status touch_session(const std::string& id_hash, int64_t at) = 0;
  // Ends one session; `event` is recorded when it ended (a logout), not for a session that was
  // already gone.
  virtual Status delete_session(const std::string& id_hash, const AuditEvent& event) = 0;
  // Deletes sessions last used before `idle_before` or created before `created_before`: they
  // can no longer be used, and keeping them would only keep their hashes.
  virtual Status delete_expired_sessions(int64_t idle_before, int64_t created_before) = 0;

  // Errc::already_exists when a token with that id exists.
  virtual Status create_api_token(const ApiTokenRecord& token, const AuditEvent& event) = 0;
  virtual Result<std::optional<ApiTokenRecord>> find_api_token(const std::string& id) = 0;
  // Newest first; only `tenant`'s tokens when it is given.
  virtual Result<std::vector<ApiTokenRecord>> list_api_tokens(
      const std::optional<std::string>& tenant) = 0;
  // Marks the token revoked at `at`: true when this call revoked it, false (and nothing written)
  // when it already was. Errc::not_found when there is no such token.
  virtual Result<bool> revoke_api_token(const std::string& id, int64_t at,
                                        const AuditEvent& event) = 0;
  virtual Status touch_api_token(const std::string& id, int64_t at) = 0;

  // Counts one failed login for the user name (as typed: names that exist and names that do
  // not are treated alike) and for the client address. Failures before `forget_before` are
  // deleted: they are outside every window that is still asked about.
  virtual Status record_login_failure(const std::string& user, const std::string& address,
                                      int64_t at, int64_t forget_before) = 0;
  // The times of the newest `limit` failed logins at or after `since`, newest first: for a
  // user name, or from an address.
  virtual Result<std::vector<int64_t>> login_failures_for_user(const std::string& user,
                                                               int64_t since, int limit) = 0;
  virtual Result<std::vector<int64_t>> login_failures_from_address(const std::string& address,
                                                                   int64_t since, int limit) = 0;
  // Forgets a user's failed logins (after the right password was given).
  virtual Status clear_login_failures(const std::string& user) = 0;
};

}  // namespace tether::store

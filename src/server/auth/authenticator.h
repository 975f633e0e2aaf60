// Checking a request's credential: what the API server asks before any route that is not
// public.
#pragma once

#include <cstdint>

#include "common/error.h"
#include "server/auth/principal.h"
#include "server/http.h"
#include "store/store.h"

namespace tether::server {

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // The principal a request's credential names. Credentials, in the order they are looked at:
  //   Authorization: Bearer <API token>
  //   the session cookie; then a state-changing method (anything but GET, HEAD, OPTIONS) must
  //   carry the session's CSRF token in X-CSRF-Token
  //   the peer's admin client certificate (admin/<name>)
  // Errors: Errc::unauthenticated (no credential, or one that is unknown, expired or revoked:
  // the message says which, never the secret), Errc::csrf_token_missing.
  virtual Result<Principal> authenticate(const Request& request, const Peer& peer,
                                         store::Store& store, int64_t now) = 0;
};

}  // namespace tether::server

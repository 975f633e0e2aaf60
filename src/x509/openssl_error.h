// Turning OpenSSL's thread-local error queue into tether errors.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace tether::x509 {

// Drains the whole OpenSSL error queue into one bounded line ("" when empty), so no stale error
// is left behind for the next operation.
std::string drain_openssl_errors();

// An Error with `what` followed by the drained OpenSSL queue.
Error openssl_error(Errc code, std::string_view what);

// Checks an OpenSSL return value (1 / non-null = success).
inline Status check(int rc, Errc code, std::string_view what) {
  if (rc == 1) return ok_status();
  return openssl_error(code, what);
}

}  // namespace tether::x509

// The Connector CA's current CRL, served at /crl and /crl.pem. It is re-issued at once after a
// revocation through the API, within a second of one made anywhere else on the store (another
// process, the CLI), and when half of its validity has passed, so a relying party that fetches
// it before nextUpdate always gets a current one.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "common/error.h"
#include "pki/authority.h"
#include "server/store_pool.h"

namespace tether::server {

class CrlService {
 public:
  static constexpr int64_t kValiditySeconds = 24 * 3600;

  CrlService(const pki::Authority& issuer, StorePool& stores) : issuer_(issuer), stores_(stores) {}

  // Issues a new CRL (next crlNumber, audited) and serves it from now on.
  Status refresh(int64_t now, const std::string& actor);
  // Refreshes when the store has revocations newer than the CRL, or half its validity is gone.
  Status refresh_if_stale(int64_t now);

  struct Current {
    std::string der;
    std::string pem;
    int64_t next_update = 0;
  };
  Current current() const;

 private:
  const pki::Authority& issuer_;
  StorePool& stores_;
  mutable std::mutex mutex_;
  Current current_;
  int64_t this_update_ = 0;
  int64_t revocation_cursor_ = 0;  // the newest revocation the current CRL includes
};

}  // namespace tether::server

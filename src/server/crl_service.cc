#include "server/crl_service.h"

#include "pki/lifecycle.h"
#include "x509/pem.h"

namespace tether::server {

namespace {
// The newest position in the store's revocation log.
Result<int64_t> newest_revocation(store::Store& store, int64_t after) {
  int64_t cursor = after;
  for (;;) {
    TETHER_ASSIGN_OR_RETURN(auto entries, store.revocations_after(cursor, 1000));
    if (entries.empty()) return cursor;
    cursor = entries.back().cursor;
  }
}
}  // namespace

Status CrlService::refresh(int64_t now, const std::string& actor) {
  TETHER_ASSIGN_OR_RETURN(auto store, stores_.borrow());
  // Read the cursor first: a revocation committed after this read is in the CRL or makes the
  // next refresh_if_stale issue another, never neither.
  int64_t cursor;
  {
    std::lock_guard lock(mutex_);
    cursor = revocation_cursor_;
  }
  TETHER_ASSIGN_OR_RETURN(cursor, newest_revocation(*store, cursor));
  TETHER_ASSIGN_OR_RETURN(auto crl,
                          pki::issue_crl(*store, issuer_, {actor, now}, kValiditySeconds));
  Current next{x509::to_der(crl.get()), x509::to_pem(crl.get()), now + kValiditySeconds};
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
  this_update_ = now;
  revocation_cursor_ = std::max(revocation_cursor_, cursor);
  return ok_status();
}

Status CrlService::refresh_if_stale(int64_t now) {
  int64_t cursor;
  bool half_gone;
  {
    std::lock_guard lock(mutex_);
    cursor = revocation_cursor_;
    half_gone = now - this_update_ >= kValiditySeconds / 2;
  }
  if (!half_gone) {
    TETHER_ASSIGN_OR_RETURN(auto store, stores_.borrow());
    TETHER_ASSIGN_OR_RETURN(auto entries, store->revocations_after(cursor, 1));
    if (entries.empty()) return ok_status();
  }
  return refresh(now, "server");
}

CrlService::Current CrlService::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace tether::server

// Reading the audit log (the `tether audit` command, later the portal).
//
// There is no append here on purpose: each mutating call of the other interfaces records its
// own audit event in the same transaction, so no change is ever stored without its event, and
// no event without its change.
#pragma once

#include <vector>

#include "common/error.h"
#include "store/records.h"

namespace tether::store {

class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // The newest `limit` events, newest first (in the order they were recorded, not by `at`).
  virtual Result<std::vector<AuditEvent>> list_audit(int limit) = 0;
};

}  // namespace tether::store

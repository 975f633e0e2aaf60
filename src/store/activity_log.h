// What gateways saw, written in batches off the handshake path: when each certificate was last
// presented, and how many handshakes ended how, per minute. A gateway's writer thread writes
// it; the CLI (`tether connector list/show`) and `tether server` read it.
//
// Each write is one transaction: a batch is recorded entirely or not at all.
#pragma once

#include <cstdint>
#include <vector>

#include "common/error.h"
#include "store/records.h"

namespace tether::store {

class ActivityLog {
 public:
  virtual ~ActivityLog() = default;

  // Records when certificates were last presented (a gateway batches them). A time older than
  // the one recorded is ignored; a serial the store does not know is skipped.
  virtual Status record_presentations(const std::vector<Presentation>& presentations) = 0;

  // Adds each count to the row of its (minute, outcome, reason), creating the row at 0 first:
  // counts from several gateways, or several batches of one, add up. `minute` is rounded down
  // to its minute (unix seconds / 60 * 60); a count below 1 is refused (Errc::invalid_argument,
  // nothing recorded), as is an outcome other than "ok" or "refused".
  virtual Status add_handshake_counts(const std::vector<HandshakeCount>& counts) = 0;

  // The rows whose minute is in [since, until), by minute, then outcome, then reason.
  virtual Result<std::vector<HandshakeCount>> handshake_counts(int64_t since, int64_t until) = 0;
};

}  // namespace tether::store

// RFC 5280 5.3.1 CRLReason codes, by name.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace tether::x509 {

// Accepts the RFC names ("keyCompromise") and kebab-case ("key-compromise"). certificateHold and
// removeFromCRL are refused: tether revocation is permanent.
Result<int> parse_revocation_reason(std::string_view name);
std::string_view revocation_reason_name(int code);

}  // namespace tether::x509

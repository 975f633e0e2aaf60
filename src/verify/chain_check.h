// Checks an uploaded certificate chain (a tenant's trust set) as the Akamai seed describes:
// PEM only, no private keys, each certificate followed by its issuer, the issuer DN equal to the
// next subject, each signature verifying with the next key, and every issuer CA:true.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::verify {

struct CheckedChain {
  std::vector<x509::X509Ptr> certificates;  // in file order
};

// On failure the error's code names the rule broken and its message the first certificate
// (1-based position and subject) that breaks it.
Result<CheckedChain> check_chain(std::string_view file_bytes);

}  // namespace tether::verify

// tether's own checks, made on top of OpenSSL's on the chain OpenSSL built and accepted. They
// only ever turn an acceptance into a refusal: OpenSSL's checks are never replaced or relaxed.
#pragma once

#include <vector>

#include "common/error.h"
#include "pki/verify.h"

namespace tether::pki {

// The usages the caller asked of the leaf (VerifyOptions::extended_key_usages, key_usages).
Status check_leaf_usages(X509* leaf, const VerifyOptions& options);

}  // namespace tether::pki

// Certificate chain verification: the one verifier the CLI, the gateway and the portal call.
//
// OpenSSL builds and checks the path (RFC 5280 6.1); tether chooses the trust anchors (only
// those given: never the system store), the flags, adds its own checks on top of OpenSSL's
// (verify/strict_checks.h) and maps each failure to one reason code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "verify/options.h"
#include "x509/handles.h"

namespace tether::verify {

struct VerifiedChain {
  std::vector<x509::X509Ptr> chain;  // leaf first, trust anchor last
};

// On failure the error's code is the reason (Errc::expired, ...) and its message a sentence
// naming the certificate at fault.
Result<VerifiedChain> verify_chain(X509* leaf, const VerifyOptions& options);

// Maps an X509_V_ERR_* code to tether's reason code.
Errc reason_for_verify_error(int x509_error);

}  // namespace tether::verify

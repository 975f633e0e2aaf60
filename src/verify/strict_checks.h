// tether's own checks, made on top of OpenSSL's on the chain OpenSSL built and accepted. They
// only ever turn an acceptance into a refusal: OpenSSL's checks are never replaced or relaxed.
//
// What they add, each where OpenSSL 3.0 is more lenient than a security product should be:
// RFC 5280 MUSTs OpenSSL does not enforce (serial numbers, authorityKeyIdentifier form,
// criticality of nameConstraints and policyConstraints, name syntax), extensions that do not
// decode, key types and sizes, the extendedKeyUsage of the trust anchor, CRL numbers, name
// constraints applied to the expected name itself, and the caller's usage and depth limits.
#pragma once

#include <vector>

#include "common/error.h"
#include "verify/options.h"

namespace tether::verify {

// `chain` is leaf first, trust anchor last, as OpenSSL built it (x509::stack_certificates of
// X509_STORE_CTX_get0_chain).
Status check_chain(const std::vector<X509*>& chain, const VerifyOptions& options);

// The usages the caller asked of the leaf (VerifyOptions::extended_key_usages, key_usages).
Status check_leaf_usages(X509* leaf, const VerifyOptions& options);

}  // namespace tether::verify

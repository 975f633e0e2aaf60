// Alternative certification paths, for when the path OpenSSL built first does not verify.
//
// OpenSSL 3.0 builds one chain (preferring the first issuer it finds) and does not backtrack, so
// a leaf with two possible issuers, one of them expired, cross-signed to an unknown root or
// excluded by a name constraint, can fail although a valid path exists (RFC 4158). This lists
// the other candidate paths, each of which OpenSSL then verifies in full: tether only chooses
// which certificates OpenSSL is offered, never decides validity itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "x509/handles.h"

namespace tether::verify {

struct PathSearchLimits {
  size_t max_paths = 16;         // candidate paths returned
  size_t max_intermediates = 8;  // per path
  size_t max_steps = 2000;       // issuer lookups, whatever the pool looks like
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct CandidatePaths {
  // Each path is the intermediates between the leaf and a certificate from `trusted` (not
  // included), from the leaf's issuer upwards. Shorter paths come first.
  std::vector<std::vector<X509*>> paths;
  size_t steps = 0;               // issuer lookups made
  bool stopped_at_limit = false;  // a limit ended the search before every path was seen
};

// Issuers are matched by name and key identifier (X509_check_issued); signatures are left to
// OpenSSL.
CandidatePaths candidate_paths(X509* leaf, const std::vector<x509::X509Ptr>& trusted,
                               const std::vector<x509::X509Ptr>& untrusted,
                               const PathSearchLimits& limits);

}  // namespace tether::verify

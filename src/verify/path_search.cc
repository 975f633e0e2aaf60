#include "verify/path_search.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <deque>

namespace tether::verify {

namespace {

bool issued_by(X509* issuer, X509* subject) {
  return X509_check_issued(issuer, subject) == X509_V_OK;
}

// The same CA may appear as several certificates (re-issued, cross-signed); a path that passes
// through one subject and key twice is a loop.
bool same_ca(X509* a, X509* b) {
  return X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(b)) == 0 &&
         EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)) == 1;
}

}  // namespace

CandidatePaths candidate_paths(X509* leaf, const std::vector<x509::X509Ptr>& trusted,
                               const std::vector<x509::X509Ptr>& untrusted,
                               const PathSearchLimits& limits) {
  CandidatePaths out;
  auto add = [&](const std::vector<X509*>& path) {
    // A path that reaches two anchors is offered once: OpenSSL picks the anchor itself.
    if (std::find(out.paths.begin(), out.paths.end(), path) == out.paths.end())
      out.paths.push_back(path);
  };
  auto step = [&] {
    if (++out.steps <= limits.max_steps) return true;
    out.stopped_at_limit = true;
    return false;
  };
  // Breadth first, so shorter paths are tried first and a deep maze cannot starve them.
  std::deque<std::vector<X509*>> partial{{}};
  while (!partial.empty()) {
    if (out.paths.size() >= limits.max_paths ||
        std::chrono::steady_clock::now() > limits.deadline) {
      out.stopped_at_limit = true;
      break;
    }
    std::vector<X509*> path = std::move(partial.front());
    partial.pop_front();
    X509* tip = path.empty() ? leaf : path.back();
    for (const auto& anchor : trusted) {
      if (!step()) return out;
      if (issued_by(anchor.get(), tip) && out.paths.size() < limits.max_paths) add(path);
    }
    if (path.size() >= limits.max_intermediates) continue;
    for (const auto& candidate : untrusted) {
      if (!step()) return out;
      X509* c = candidate.get();
      if (!issued_by(c, tip) || same_ca(c, leaf)) continue;
      if (std::any_of(path.begin(), path.end(), [&](X509* p) { return same_ca(p, c); })) continue;
      std::vector<X509*> longer = path;
      longer.push_back(c);
      partial.push_back(std::move(longer));
    }
  }
  return out;
}

}  // namespace tether::verify

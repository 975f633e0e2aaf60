#include "pki/path_search.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <deque>

namespace tether::pki {

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

std::vector<std::vector<X509*>> candidate_paths(X509* leaf, const std::vector<x509::X509Ptr>& trusted,
                                                const std::vector<x509::X509Ptr>& untrusted,
                                                const PathSearchLimits& limits) {
  std::vector<std::vector<X509*>> found;
  // Breadth first, so shorter paths are tried first and a deep maze cannot starve them.
  std::deque<std::vector<X509*>> partial{{}};
  size_t steps = 0;
  while (!partial.empty() && found.size() < limits.max_paths) {
    std::vector<X509*> path = std::move(partial.front());
    partial.pop_front();
    X509* tip = path.empty() ? leaf : path.back();
    if (std::chrono::steady_clock::now() > limits.deadline) break;
    for (const auto& anchor : trusted) {
      if (++steps > limits.max_steps) return found;
      if (issued_by(anchor.get(), tip) && found.size() < limits.max_paths) found.push_back(path);
    }
    if (path.size() >= limits.max_intermediates) continue;
    for (const auto& candidate : untrusted) {
      if (++steps > limits.max_steps) return found;
      X509* c = candidate.get();
      if (!issued_by(c, tip) || same_ca(c, leaf)) continue;
      if (std::any_of(path.begin(), path.end(), [&](X509* p) { return same_ca(p, c); })) continue;
      std::vector<X509*> longer = path;
      longer.push_back(c);
      partial.push_back(std::move(longer));
    }
  }
  // A path that reaches two anchors is offered once: OpenSSL picks the anchor itself.
  std::vector<std::vector<X509*>> unique;
  for (auto& p : found) {
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(std::move(p));
  }
  return unique;
}

}  // namespace tether::pki

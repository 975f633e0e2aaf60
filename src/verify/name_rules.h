// Name syntax and name-constraint rules tether applies on top of OpenSSL's (RFC 5280 4.2.1.6,
// 4.2.1.10).
#pragma once

#include <string_view>
#include <vector>

#include "common/error.h"
#include "verify/peer_names.h"

namespace tether::verify {

// A host name as a subjectAltName dNSName may carry it: LDH labels of 1-63 characters, at most
// 253 in all, optionally with "*" as the whole left-most label.
bool is_valid_dns_san(std::string_view name);
// A dNSName constraint: LDH labels only, no wildcard, no leading period.
bool is_valid_dns_constraint(std::string_view name);
// An rfc822Name: local-part@domain with a non-empty local part of printable ASCII.
bool is_valid_email_san(std::string_view name);

// Whether `name` lies within the dNSName subtree `base` (equal, or a subdomain of it),
// compared without regard to case.
bool dns_within(std::string_view name, std::string_view base);

// The leaf's subjectAltName entries are well formed.
Status check_san_syntax(X509* leaf);

// The nameConstraints extensions of the path are well formed and where RFC 5280 allows them:
// critical, in CA certificates only, with at least one subtree, each base valid.
Status check_name_constraints_form(const std::vector<X509*>& chain);

// The expected DNS names themselves satisfy every dNSName constraint in the path. A wildcard
// subjectAltName such as *.example.com can match a name (bar.example.com) that a constraint
// excludes although the SAN itself does not (CVE-2025-61727): the name the caller connects to
// is what must be allowed.
Status check_expected_names_constrained(const std::vector<X509*>& chain,
                                        const std::vector<PeerName>& names);

}  // namespace tether::verify

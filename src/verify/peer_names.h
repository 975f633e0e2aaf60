// The names a caller expects the leaf to carry (`--name`, limbo's expected_peer_name), and how
// they are matched: against the subjectAltName only, with OpenSSL's own matching.
#pragma once

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace tether::verify {

struct PeerName {
  enum class Kind { dns, ip, email };
  Kind kind = Kind::dns;
  std::string value;
};

// Guesses the kind from the text, as `--name` does: an IP address literal, an e-mail address
// (with '@'), otherwise a DNS name.
PeerName peer_name_from_text(std::string text);

// Host names match as RFC 6125 says and browsers do: a wildcard only as the whole left-most
// label, and never the subject CN (deprecated since RFC 2818; an attacker-chosen CN must not
// stand in for a missing subjectAltName). Name constraints then apply to the subjectAltName
// only, whatever kind of name is expected.
inline constexpr unsigned kHostFlags =
    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;

// Sets `name` on the verify parameters, so OpenSSL checks it as part of the chain
// (X509_V_ERR_HOSTNAME_MISMATCH etc.).
Status set_expected_name(X509_VERIFY_PARAM* param, const PeerName& name);

// Every name after the first, checked against the leaf as OpenSSL checks the first.
Status check_more_names(X509* leaf, const std::vector<PeerName>& names);

}  // namespace tether::verify

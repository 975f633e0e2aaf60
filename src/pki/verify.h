// Certificate chain verification: the one verifier the CLI, the gateway and the portal call.
//
// OpenSSL builds and checks the path (RFC 5280 6.1); tether chooses the trust anchors (only
// those given: never the system store), the flags, adds its own checks on top of OpenSSL's
// (pki/strict_checks.h) and maps each failure to one reason code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "pki/peer_names.h"
#include "x509/handles.h"

namespace tether::pki {

enum class Purpose { any, client, server };

Result<Purpose> parse_purpose(std::string_view text);

struct VerifyOptions {
  // Trust anchors. Each one is trusted as given, self-signed or not (RFC 5280 6.1.1 (d)): a
  // tenant may pin an intermediate.
  std::vector<x509::X509Ptr> trusted;
  std::vector<x509::X509Ptr> untrusted;
  Purpose purpose = Purpose::client;
  std::optional<int64_t> at;  // validation time; now when unset
  // Expected peer names; the leaf must match every one.
  std::vector<PeerName> names;
  // Extended key usages the leaf must carry, by OpenSSL short name or dotted OID
  // ("serverAuth", "1.3.6.1.5.5.7.3.2"); empty = whatever the purpose requires.
  std::vector<std::string> extended_key_usages;
  // Key usage bits the leaf must assert when it has a keyUsage extension ("digitalSignature").
  std::vector<std::string> key_usages;
  std::vector<x509::X509CrlPtr> crls;
  // With CRLs: check the whole chain rather than only the leaf.
  bool crl_check_all = false;
  // The most intermediates allowed between the leaf and the trust anchor.
  std::optional<int> max_depth;
};

struct VerifiedChain {
  std::vector<x509::X509Ptr> chain;  // leaf first, trust anchor last
};

// On failure the error's code is the reason (Errc::expired, ...) and its message a sentence
// naming the certificate at fault.
Result<VerifiedChain> verify_chain(X509* leaf, const VerifyOptions& options);

// Maps an X509_V_ERR_* code to tether's reason code.
Errc reason_for_verify_error(int x509_error);

}  // namespace tether::pki

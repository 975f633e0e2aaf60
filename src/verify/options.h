// What a caller asks of a chain: trust anchors, purpose, time, expected names, usages, CRLs and
// depth. Its own header so that the verifier and the checks it runs (strict_checks.h) both read
// it without depending on each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "verify/peer_names.h"
#include "x509/handles.h"

namespace tether::verify {

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

}  // namespace tether::verify

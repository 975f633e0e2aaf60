// Certificate chain verification: the one verifier the CLI, the gateway and the portal call.
//
// OpenSSL builds and checks the path (RFC 5280 6.1); tether chooses the trust anchors (only
// those given: never the system store), the flags, and maps each failure to one reason code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::pki {

enum class Purpose { any, client, server };

Result<Purpose> parse_purpose(std::string_view text);

struct VerifyOptions {
  std::vector<x509::X509Ptr> trusted;
  std::vector<x509::X509Ptr> untrusted;
  Purpose purpose = Purpose::client;
  std::optional<int64_t> at;  // validation time; now when unset
  // Expected peer name: a DNS name, an IP address, or an e-mail address (with '@').
  std::optional<std::string> name;
  std::vector<x509::X509CrlPtr> crls;
  // With CRLs: check the whole chain rather than only the leaf.
  bool crl_check_all = false;
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

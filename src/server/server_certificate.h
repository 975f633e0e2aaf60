// The certificate both of the server's listeners present (the API and the gateway): a gateway
// identity ("gateway/tether-server") from the tether Server CA, for the names in [server], kept
// in <data>/server. Made on first start and renewed once two thirds of its lifetime have passed
// (or when its names changed, or it was revoked); the files are replaced atomically, so a
// listener that reloads them reads the old pair or the new one, never half of each.
#pragma once

#include <cstdint>

#include "common/error.h"
#include "pki/certificate_authority.h"
#include "server/server_config.h"
#include "store/store.h"

namespace tether::server {

inline constexpr const char* kServerIdentityName = "tether-server";

// Issues or renews the certificate when due. Returns whether new files were written.
Result<bool> ensure_server_certificate(store::Store& store, pki::CertificateAuthority& ca,
                                       const ServerConfig& config, const ServerPaths& paths,
                                       int64_t now);

// When the current certificate (as recorded) should be renewed: two thirds into its lifetime.
int64_t renewal_due(int64_t not_before, int64_t not_after);

}  // namespace tether::server

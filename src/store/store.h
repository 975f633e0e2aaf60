// The whole store: what one adapter (SQLite today, PostgreSQL next) implements.
//
// Code that uses the store takes the narrow interface it needs, not this one:
//   certificate_store.h  tenants, connectors, certificates, revocation, CRL numbers (the CA)
//   revocation_feed.h    the revocations after a cursor, and a push hook (the gateway)
//   audit_log.h          reading the audit log (the CLI, the portal)
//   settings_store.h     the CA's settings (everything that loads the authority)
//   activity_log.h       what gateways saw: certificates presented, handshake outcomes
//   auth_store.h         the API server's users, sessions, API tokens and login failures
// Only composition points (main, the commands, `tether server`) hold a Store, opened from a URI
// by store::open (open.h), and hand each component its part.
#pragma once

#include "store/activity_log.h"
#include "store/audit_log.h"
#include "store/auth_store.h"
#include "store/certificate_store.h"
#include "store/records.h"
#include "store/revocation_feed.h"
#include "store/settings_store.h"

namespace tether::store {

class Store : public CertificateStore,
              public RevocationFeed,
              public AuditLog,
              public SettingsStore,
              public AuthStore,
              public ActivityLog {
 public:
  ~Store() override = default;
};

}  // namespace tether::store

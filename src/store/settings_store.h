// The CA's settings (trust domain, key type, CA fingerprints): written once by `tether ca init`,
// read by every command that loads the authority and by the gateway (its trust domain).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "store/records.h"

namespace tether::store {

class SettingsStore {
 public:
  virtual ~SettingsStore() = default;

  virtual Result<std::optional<std::string>> get_setting(const std::string& key) = 0;
  // Records CA initialisation: settings and the audit event together. Errc::already_exists when
  // a setting is already recorded (nothing is then written).
  virtual Status record_ca_init(const std::vector<std::pair<std::string, std::string>>& settings,
                                const AuditEvent& event) = 0;
};

}  // namespace tether::store

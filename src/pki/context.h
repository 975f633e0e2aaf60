// Who acts and when: every audit event carries both.
#pragma once

#include <cstdint>
#include <string>

namespace tether::pki {

struct Context {
  std::string actor;
  int64_t now = 0;
};

}  // namespace tether::pki

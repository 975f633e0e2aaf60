// Versioned schema migrations. Migration N (1-based) moves the schema from version N-1 to N;
// released migrations are never edited, only appended to.
#pragma once

#include <string_view>
#include <vector>

namespace tether::store {

const std::vector<std::string_view>& sqlite_migrations();

}  // namespace tether::store

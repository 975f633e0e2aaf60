#include "server/auth/principal.h"

namespace tether::server {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::operator_role:
      return "operator";
    case Role::tenant_admin:
      return "tenant-admin";
  }
  return "tenant-admin";
}

std::optional<Role> role_from_name(std::string_view name) {
  if (name == "operator") return Role::operator_role;
  if (name == "tenant-admin") return Role::tenant_admin;
  return std::nullopt;
}

}  // namespace tether::server

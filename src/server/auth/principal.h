// Who a request acts for, once its credential was checked.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tether::server {

// operator: every tenant, users and tokens. tenant_admin: one tenant's connectors and audit
// entries, nothing of any other tenant in any response.
enum class Role { operator_role, tenant_admin };

std::string_view role_name(Role role);  // "operator", "tenant-admin"
std::optional<Role> role_from_name(std::string_view name);

enum class Credential { session, api_token, admin_certificate };

struct Principal {
  // The audit log's actor: "user:alice", "token:<id>", "admin:<name>" (an admin certificate).
  std::string actor;
  Role role = Role::tenant_admin;
  std::string tenant;  // a tenant-admin's tenant; empty for an operator
  Credential via = Credential::session;
  // Set for a session: the user must change the one-time password before anything but that.
  bool password_change_required = false;

  bool is_operator() const { return role == Role::operator_role; }
  // Whether this principal may see and act on `tenant_id`.
  bool can_access_tenant(std::string_view tenant_id) const {
    return is_operator() || tenant == tenant_id;
  }
};

}  // namespace tether::server

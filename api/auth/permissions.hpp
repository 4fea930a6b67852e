// Role-based access: the permissions of the seed, the table that grants them to the five roles,
// and the scope of records each role reaches. docs/security.md shows the same matrix.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "domain/user/user_events.hpp"

namespace realmkit::api::auth {

enum class permission {
  contact_view,
  contact_edit,
  contact_delete,
  deal_view,
  deal_edit,
  deal_delete,
  lead_view,
  lead_edit,
  company_view,
  company_edit,
  activity_view,
  activity_edit,
  task_view,
  task_edit,
  pipeline_view,
  pipeline_edit,
  team_view,
  team_edit,
  user_view,
  user_edit,
  analytics_view,
  audit_view,
  admin_access,
};
inline constexpr std::size_t kPermissionCount = 23;

// Every permission, in declaration order.
std::span<const permission> all_permissions();
inline constexpr std::array<domain::user_role, 5> kAllRoles{
    domain::user_role::admin, domain::user_role::manager, domain::user_role::sales_rep,
    domain::user_role::analyst, domain::user_role::auditor};

// The wire name, e.g. "contact:view".
std::string_view to_string(permission p);
std::optional<permission> permission_from_string(std::string_view text);

// True when the role grants the permission. Unknown roles grant nothing.
bool has_permission(domain::user_role role, permission p);
// The permissions of a role, in declaration order (for GET /api/auth/me and the docs).
std::span<const permission> permissions_of(domain::user_role role);

// Which records a role's permissions apply to.
enum class record_scope {
  all,   // every record (admin; analyst and auditor, who only read)
  team,  // records owned by the user's team (manager, sales_rep)
};
std::string_view to_string(record_scope scope);
record_scope scope_of(domain::user_role role);

// True when a user of `role` in `user_team` may see a team-owned record (contact, company,
// lead, deal, activity, task) owned by `record_team`. A team-scoped user sees only records of
// their own team: none when they have no team, never a record of no team. Organisation-wide
// things (pipelines, teams, users) are not team-owned: their permission alone decides. Hidden
// records answer 404, not 403, so their existence does not leak.
bool can_see_record(domain::user_role role, const std::optional<std::string_view>& user_team,
                    const std::optional<std::string_view>& record_team);

}  // namespace realmkit::api::auth

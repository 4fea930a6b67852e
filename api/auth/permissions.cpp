#include "api/auth/permissions.hpp"

#include <algorithm>
#include <vector>

namespace realmkit::api::auth {
namespace {

using domain::user_role;
using p = permission;

constexpr std::array<permission, kPermissionCount> kAll{
    p::contact_view,   p::contact_edit,  p::contact_delete, p::deal_view,    p::deal_edit,
    p::deal_delete,    p::lead_view,     p::lead_edit,      p::company_view, p::company_edit,
    p::activity_view,  p::activity_edit, p::task_view,      p::task_edit,    p::pipeline_view,
    p::pipeline_edit,  p::team_view,     p::team_edit,      p::user_view,    p::user_edit,
    p::analytics_view, p::audit_view,    p::admin_access};

constexpr std::array<std::string_view, kPermissionCount> kNames{
    "contact:view",   "contact:edit",  "contact:delete", "deal:view",    "deal:edit",
    "deal:delete",    "lead:view",     "lead:edit",      "company:view", "company:edit",
    "activity:view",  "activity:edit", "task:view",      "task:edit",    "pipeline:view",
    "pipeline:edit",  "team:view",     "team:edit",      "user:view",    "user:edit",
    "analytics:view", "audit:view",    "admin:access"};

// The matrix: one row per permission, one column per role (admin, manager, sales_rep, analyst,
// auditor). Why each column looks the way it does is in docs/security.md.
struct grant {
  permission perm;
  bool admin, manager, sales_rep, analyst, auditor;
};
constexpr bool Y = true;
constexpr bool N = false;
// clang-format off
constexpr std::array<grant, kPermissionCount> kMatrix{{
    //                  admin manager sales_rep analyst auditor
    {p::contact_view,   Y,    Y,      Y,        Y,      Y},
    {p::contact_edit,   Y,    Y,      Y,        N,      N},
    {p::contact_delete, Y,    Y,      N,        N,      N},
    {p::deal_view,      Y,    Y,      Y,        Y,      Y},
    {p::deal_edit,      Y,    Y,      Y,        N,      N},
    {p::deal_delete,    Y,    Y,      N,        N,      N},
    {p::lead_view,      Y,    Y,      Y,        Y,      Y},
    {p::lead_edit,      Y,    Y,      Y,        N,      N},
    {p::company_view,   Y,    Y,      Y,        Y,      Y},
    {p::company_edit,   Y,    Y,      Y,        N,      N},
    {p::activity_view,  Y,    Y,      Y,        Y,      Y},
    {p::activity_edit,  Y,    Y,      Y,        N,      N},
    {p::task_view,      Y,    Y,      Y,        Y,      Y},
    {p::task_edit,      Y,    Y,      Y,        N,      N},
    {p::pipeline_view,  Y,    Y,      Y,        Y,      Y},
    {p::pipeline_edit,  Y,    Y,      N,        N,      N},
    {p::team_view,      Y,    Y,      Y,        Y,      Y},
    {p::team_edit,      Y,    Y,      N,        N,      N},
    {p::user_view,      Y,    Y,      Y,        Y,      Y},
    {p::user_edit,      Y,    N,      N,        N,      N},
    {p::analytics_view, Y,    Y,      N,        Y,      N},
    {p::audit_view,     Y,    N,      N,        N,      Y},
    {p::admin_access,   Y,    N,      N,        N,      N},
}};
// clang-format on

constexpr bool granted(const grant& g, user_role role) {
  switch (role) {
    case user_role::admin:
      return g.admin;
    case user_role::manager:
      return g.manager;
    case user_role::sales_rep:
      return g.sales_rep;
    case user_role::analyst:
      return g.analyst;
    case user_role::auditor:
      return g.auditor;
  }
  return false;
}

constexpr bool matrix_in_declaration_order() {
  for (std::size_t i = 0; i < kPermissionCount; ++i) {
    if (kMatrix[i].perm != kAll[i] || static_cast<std::size_t>(kAll[i]) != i) return false;
  }
  return true;
}
static_assert(matrix_in_declaration_order(), "the matrix lists every permission once, in order");

// Per role, its granted permissions, built once from the matrix.
struct role_table {
  std::array<std::vector<permission>, kAllRoles.size()> by_role;
  role_table() {
    for (std::size_t r = 0; r < kAllRoles.size(); ++r) {
      for (const auto& g : kMatrix) {
        if (granted(g, kAllRoles[r])) by_role[r].push_back(g.perm);
      }
    }
  }
};

const role_table& roles() {
  static const role_table table;
  return table;
}

}  // namespace

std::span<const permission> all_permissions() {
  return kAll;
}

std::string_view to_string(permission perm) {
  const auto i = static_cast<std::size_t>(perm);
  return i < kNames.size() ? kNames[i] : std::string_view{};
}

std::optional<permission> permission_from_string(std::string_view text) {
  const auto it = std::find(kNames.begin(), kNames.end(), text);
  if (it == kNames.end()) return std::nullopt;
  return kAll[static_cast<std::size_t>(it - kNames.begin())];
}

bool has_permission(user_role role, permission perm) {
  const auto i = static_cast<std::size_t>(perm);
  return i < kMatrix.size() && granted(kMatrix[i], role);
}

std::span<const permission> permissions_of(user_role role) {
  const auto it = std::find(kAllRoles.begin(), kAllRoles.end(), role);
  if (it == kAllRoles.end()) return {};
  return roles().by_role[static_cast<std::size_t>(it - kAllRoles.begin())];
}

std::string_view to_string(record_scope scope) {
  return scope == record_scope::all ? "all" : "team";
}

record_scope scope_of(user_role role) {
  switch (role) {
    case user_role::manager:
    case user_role::sales_rep:
      return record_scope::team;
    case user_role::admin:
    case user_role::analyst:
    case user_role::auditor:
      return record_scope::all;
  }
  return record_scope::team;  // an unknown role gets the narrower scope
}

bool can_see_record(user_role role, const std::optional<std::string_view>& user_team,
                    const std::optional<std::string_view>& record_team) {
  if (scope_of(role) == record_scope::all) return true;
  return record_team && user_team && *user_team == *record_team;
}

}  // namespace realmkit::api::auth

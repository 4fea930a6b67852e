// Roles and permissions: the names, the matrix cell by cell, and record visibility by team.
#include "api/auth/permissions.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

using namespace realmkit;
using namespace realmkit::api::auth;
using domain::user_role;

TEST_CASE("every permission has its seed name and parses back") {
  std::set<std::string_view> names;
  for (const auto p : all_permissions()) {
    const auto name = to_string(p);
    CAPTURE(name);
    CHECK(name.find(':') != std::string_view::npos);
    CHECK(permission_from_string(name) == p);
    names.insert(name);
  }
  CHECK(names.size() == kPermissionCount);
  for (const auto* seed : {"contact:view", "contact:edit", "contact:delete", "deal:view",
                           "deal:edit", "analytics:view", "admin:access", "audit:view"}) {
    CHECK(names.count(seed) == 1);
  }
  CHECK_FALSE(permission_from_string("contact:VIEW").has_value());
  CHECK_FALSE(permission_from_string("").has_value());
}

TEST_CASE("the permission matrix, cell by cell") {
  // Written out as in docs/security.md: a change to the table must change this test too.
  const std::map<std::string, std::string> expected{
      //                 admin, manager, sales_rep, analyst, auditor
      {"contact:view", "YYYYY"},  {"contact:edit", "YYYNN"},  {"contact:delete", "YYNNN"},
      {"deal:view", "YYYYY"},     {"deal:edit", "YYYNN"},     {"deal:delete", "YYNNN"},
      {"lead:view", "YYYYY"},     {"lead:edit", "YYYNN"},     {"company:view", "YYYYY"},
      {"company:edit", "YYYNN"},  {"activity:view", "YYYYY"}, {"activity:edit", "YYYNN"},
      {"task:view", "YYYYY"},     {"task:edit", "YYYNN"},     {"pipeline:view", "YYYYY"},
      {"pipeline:edit", "YYNNN"}, {"team:view", "YYYYY"},     {"team:edit", "YYNNN"},
      {"user:view", "YYYYY"},     {"user:edit", "YNNNN"},     {"analytics:view", "YYNYN"},
      {"audit:view", "YNNNY"},    {"admin:access", "YNNNN"},
  };
  REQUIRE(expected.size() == kPermissionCount);
  for (const auto& [name, cells] : expected) {
    const auto p = permission_from_string(name);
    REQUIRE(p.has_value());
    for (std::size_t r = 0; r < kAllRoles.size(); ++r) {
      CAPTURE(name);
      CAPTURE(domain::to_string(kAllRoles[r]));
      CHECK(has_permission(kAllRoles[r], *p) == (cells[r] == 'Y'));
    }
  }
}

TEST_CASE("permissions_of lists exactly the granted permissions") {
  for (const auto role : kAllRoles) {
    CAPTURE(domain::to_string(role));
    std::set<permission> listed(permissions_of(role).begin(), permissions_of(role).end());
    CHECK(listed.size() == permissions_of(role).size());
    for (const auto p : all_permissions()) CHECK(listed.count(p) == has_permission(role, p));
  }
  CHECK(permissions_of(user_role::admin).size() == kPermissionCount);
  // Read-only roles can edit nothing.
  for (const auto role : {user_role::analyst, user_role::auditor}) {
    for (const auto p : permissions_of(role)) {
      const auto name = to_string(p);
      CHECK_FALSE(name.ends_with(":edit"));
      CHECK_FALSE(name.ends_with(":delete"));
    }
  }
  // A role value outside the enum (a corrupt token cannot produce one, but still) grants nothing.
  const auto bogus = static_cast<user_role>(99);
  CHECK(permissions_of(bogus).empty());
  CHECK_FALSE(has_permission(bogus, permission::contact_view));
  CHECK(scope_of(bogus) == record_scope::team);
}

TEST_CASE("record visibility: team roles see their own team's records only") {
  const std::optional<std::string_view> team_a = "team-a";
  const std::optional<std::string_view> team_b = "team-b";
  const std::optional<std::string_view> none;
  for (const auto role : {user_role::manager, user_role::sales_rep}) {
    CAPTURE(domain::to_string(role));
    CHECK(scope_of(role) == record_scope::team);
    CHECK(can_see_record(role, team_a, team_a));
    CHECK_FALSE(can_see_record(role, team_a, team_b));
    CHECK_FALSE(can_see_record(role, team_a, none));
    CHECK_FALSE(can_see_record(role, none, team_a));
    CHECK_FALSE(can_see_record(role, none, none));
  }
  for (const auto role : {user_role::admin, user_role::analyst, user_role::auditor}) {
    CAPTURE(domain::to_string(role));
    CHECK(scope_of(role) == record_scope::all);
    CHECK(can_see_record(role, team_a, team_b));
    CHECK(can_see_record(role, none, team_b));
    CHECK(can_see_record(role, none, none));
  }
}

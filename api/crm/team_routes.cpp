// /api/teams: groups of users with a manager. Record visibility follows teams, so changing them is
// organisation administration: admins do everything; a manager (team:edit) renames their own team
// and takes people without a team into it, or lets members go.
#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

team_id team_of_path(const request_scope& scope) {
  return team_id{path_id(scope.request())};
}

void require_admin(const request_scope& scope) {
  if (!scope.is_admin()) forbid("only an admin creates, archives or staffs teams with managers");
}

// Admins change any team, managers only their own.
void require_own_team(const request_scope& scope, const team_id& team) {
  if (scope.is_admin()) return;
  if (scope.caller().team_id != team.value) forbid("a manager changes only their own team");
}

http_response create(request_scope& scope) {
  require_admin(scope);
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"name", "manager_id"});
  create_team c{team_id{scope.services().new_id()}, o.string("name"),
                optional_id<user_id>(o, "manager_id")};
  return created_reply(
      commands::execute(scope.services().handler, team_command{c}, scope.metadata()),
      "/api/teams/");
}

http_response update(request_scope& scope) {
  const auto id = team_of_path(scope);
  require_own_team(scope, id);
  const auto body = body_of(scope.request());
  const auto o = body.root();
  allow_with_version(o, {"name", "manager_id"});
  std::vector<team_command> commands;
  if (auto name = o.optional_string("name")) commands.push_back(rename_team{id, *name});
  if (o.has("manager_id")) {
    if (!scope.is_admin()) forbid("only an admin assigns a team's manager", "manager_id");
    commands.push_back(assign_team_manager{id, optional_id<user_id>(o, "manager_id")});
  }
  return command_reply(execute_on_record(scope, commands, expected_version(scope.request(), o)));
}

http_response add_member(request_scope& scope) {
  const auto id = team_of_path(scope);
  require_own_team(scope, id);
  return body_command<team_command>(scope, {"user_id"}, [&](const json_object& o) {
    const auto user = read_id<user_id>(o, "user_id");
    if (!scope.is_admin() && scope.team_of(user) && scope.team_of(user) != id.value) {
      forbid("a manager takes into their team only people without a team", "user_id");
    }
    return add_team_member{id, user};
  });
}

}  // namespace

void add_team_routes(router& routes, crm_services& services) {
  add_route(routes, services, "GET", "/api/teams", "teams.list", perm::team_view,
            "List teams (filter: updated_since)", [](request_scope& scope) {
              await_min_position(scope);
              const auto q = list_params(scope, {"updated_since"}, false);
              return list_reply(scope.services().queries.list_teams(q));
            });
  add_route(routes, services, "POST", "/api/teams", "teams.create", perm::team_edit,
            "Create a team, optionally with its manager (admin)", create);
  add_route(routes, services, "GET", "/api/teams/{id}", "teams.get", perm::team_view,
            "Get a team with its members", [](request_scope& scope) {
              await_min_position(scope);
              const auto id = path_id(scope.request());
              return view_reply(
                  scope, visible_or_404(scope, scope.services().queries.find_team(id), "team"));
            });
  add_route(routes, services, "PATCH", "/api/teams/{id}", "teams.update", perm::team_edit,
            "Rename a team or assign its manager (admin)", update);
  add_route(routes, services, "DELETE", "/api/teams/{id}", "teams.archive", perm::team_edit,
            "Archive a team (admin)", [](request_scope& scope) {
              require_admin(scope);
              return record_command<team_command>(scope, archive_team{team_of_path(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/teams/{id}/members", "teams.add_member",
            perm::team_edit, "Add a user to a team (they leave their previous team)", add_member);
  add_route(routes, services, "DELETE", "/api/teams/{id}/members/{user_id}", "teams.remove_member",
            perm::team_edit, "Remove a user from a team", [](request_scope& scope) {
              const auto id = team_of_path(scope);
              require_own_team(scope, id);
              const user_id user{std::string(scope.request().path_param("user_id"))};
              return record_command<team_command>(scope, remove_team_member{id, user},
                                                  bodyless_expected_version(scope.request()));
            });
}

}  // namespace realmkit::api::crm

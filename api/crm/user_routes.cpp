// /api/users: the people who sign in, their roles and teams. Administration is for admins
// (user:edit); every signed-in role may read the directory (user:view).
#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"
#include "infra/crypto/password_hasher.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

user_id user_of(const request_scope& scope) {
  return user_id{path_id(scope.request())};
}

// The argon2id hash of a new password, after the policy; 422 when this server hashes none.
std::string hash_password(const request_scope& scope, const std::string& password) {
  if (auto r = infra::crypto::check_password_policy(password, "password")) {
    fail(r->field, r->reason);
  }
  const auto* hasher = scope.services().hasher;
  if (!hasher) fail("password", "this server does not set passwords over the API");
  return hasher->hash(password);
}

// A successful change of what the user may do ends the user's sessions
// (crm_services::end_sessions).
http_response ending_sessions(request_scope& scope, const user_id& id, http_response reply) {
  if (reply.status < 300 && scope.services().end_sessions) scope.services().end_sessions(id.value);
  return reply;
}

http_response create(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"email", "display_name", "role", "team_id", "password"});
  register_user c;
  c.user = user_id{scope.services().new_id()};
  c.email = o.string("email");
  c.display_name = o.string("display_name");
  c.role = read_enum<user_role>(o, "role");
  c.team = optional_id<team_id>(o, "team_id");
  if (auto password = o.optional_string("password"))
    c.password_hash = hash_password(scope, *password);
  return created_reply(
      commands::execute(scope.services().handler, user_command{c}, scope.metadata()),
      "/api/users/");
}

http_response update(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  allow_with_version(o, {"display_name", "email", "role", "team_id"});
  const auto id = user_of(scope);
  std::vector<user_command> commands;
  if (auto name = o.optional_string("display_name")) commands.push_back(rename_user{id, *name});
  if (auto email = o.optional_string("email")) commands.push_back(change_user_email{id, *email});
  if (auto role = optional_enum<user_role>(o, "role"))
    commands.push_back(change_user_role{id, *role});
  const bool rights_change = o.has("role") || o.has("team_id");
  if (o.has("team_id"))
    commands.push_back(change_user_team{id, optional_id<team_id>(o, "team_id")});
  auto reply =
      command_reply(execute_on_record(scope, commands, expected_version(scope.request(), o)));
  return rights_change ? ending_sessions(scope, id, std::move(reply)) : reply;
}

}  // namespace

void add_user_routes(router& routes, crm_services& services) {
  add_route(routes, services, "GET", "/api/users", "users.list", perm::user_view,
            "List users (filters: team, status=active|inactive, updated_since)",
            [](request_scope& scope) {
              await_min_position(scope);
              const auto q = list_params(scope, {"team", "status", "updated_since"}, false);
              return list_reply(scope.services().queries.list_users(q));
            });
  add_route(routes, services, "POST", "/api/users", "users.create", perm::user_edit,
            "Register a user with a role, optionally in a team and with a password", create);
  add_route(routes, services, "GET", "/api/users/{id}", "users.get", perm::user_view, "Get a user",
            [](request_scope& scope) {
              await_min_position(scope);
              const auto id = path_id(scope.request());
              return view_reply(
                  scope, visible_or_404(scope, scope.services().queries.find_user(id), "user"));
            });
  add_route(routes, services, "PATCH", "/api/users/{id}", "users.update", perm::user_edit,
            "Change a user's name, e-mail address, role or team", update);
  add_route(routes, services, "POST", "/api/users/{id}/password", "users.set_password",
            perm::user_edit, "Set a user's password", [](request_scope& scope) {
              return ending_sessions(
                  scope, user_of(scope),
                  body_command<user_command>(scope, {"password"}, [&](const json_object& o) {
                    return change_user_password{user_of(scope),
                                                hash_password(scope, o.string("password"))};
                  }));
            });
  add_route(routes, services, "DELETE", "/api/users/{id}", "users.deactivate", perm::user_edit,
            "Deactivate a user (they can no longer sign in)", [](request_scope& scope) {
              return ending_sessions(
                  scope, user_of(scope),
                  record_command<user_command>(scope, deactivate_user{user_of(scope)},
                                               bodyless_expected_version(scope.request())));
            });
  add_route(routes, services, "POST", "/api/users/{id}/reactivate", "users.reactivate",
            perm::user_edit, "Reactivate a deactivated user", [](request_scope& scope) {
              return record_command<user_command>(scope, reactivate_user{user_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
}

}  // namespace realmkit::api::crm

// /api/activities: calls, e-mails, meetings, notes and SMS on the timelines of records.
#include <limits>

#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

activity_id activity_of(const request_scope& scope) {
  return activity_id{path_id(scope.request())};
}

std::optional<int> optional_minutes(const json_object& o) {
  const auto minutes = o.optional_int64("duration_minutes", std::numeric_limits<int>::min(),
                                        std::numeric_limits<int>::max());
  if (!minutes) return std::nullopt;
  return static_cast<int>(*minutes);
}

http_response create(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only(
      {"type", "subject", "summary", "body", "occurred_at", "duration_minutes", "owner_id"});
  log_activity c;
  c.activity = activity_id{scope.services().new_id()};
  c.type = read_enum<activity_type>(o, "type");
  c.subject = read_ref(o, "subject");
  check_linked(scope, c.subject.kind, c.subject.id, "subject.id");
  c.summary = o.string("summary");
  c.body = o.optional_string("body").value_or("");
  c.occurred_at = read_time(o, "occurred_at");
  c.duration_minutes = optional_minutes(o);
  c.owner = optional_id<user_id>(o, "owner_id").value_or(scope.caller_id());
  scope.check_owner(*c.owner, "owner_id");
  return created_reply(
      commands::execute(scope.services().handler, activity_command{c}, scope.metadata()),
      "/api/activities/");
}

http_response update(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  allow_with_version(o, {"summary", "body", "occurred_at", "duration_minutes"});
  edit_activity c{activity_of(scope), o.optional_string("summary"), o.optional_string("body"),
                  optional_time(o, "occurred_at"), optional_minutes(o)};
  std::vector<activity_command> commands;
  if (c.summary || c.body || c.occurred_at || c.duration_minutes) commands.push_back(c);
  return command_reply(execute_on_record(scope, commands, expected_version(scope.request(), o)));
}

}  // namespace

void add_activity_routes(router& routes, crm_services& services) {
  add_route(
      routes, services, "GET", "/api/activities", "activities.list", perm::activity_view,
      "List activities (filters: owner, team, subject=<kind>:<id>, updated_since)",
      [](request_scope& scope) {
        await_min_position(scope);
        const auto q = list_params(scope, {"owner", "team", "subject", "updated_since"}, true);
        return list_reply(scope.services().queries.list_activities(q));
      });
  add_route(routes, services, "POST", "/api/activities", "activities.create", perm::activity_edit,
            "Log an activity on a contact, company, deal or lead", create);
  add_route(routes, services, "GET", "/api/activities/{id}", "activities.get", perm::activity_view,
            "Get an activity", [](request_scope& scope) {
              await_min_position(scope);
              auto found = scope.services().queries.find_activity(path_id(scope.request()));
              if (found && found->state.deleted) found.reset();
              return view_reply(scope, visible_or_404(scope, std::move(found), "activity"));
            });
  add_route(routes, services, "PATCH", "/api/activities/{id}", "activities.update",
            perm::activity_edit, "Edit an activity", update);
  add_route(routes, services, "DELETE", "/api/activities/{id}", "activities.delete",
            perm::activity_edit, "Delete an activity", [](request_scope& scope) {
              return record_command<activity_command>(scope, delete_activity{activity_of(scope)},
                                                      bodyless_expected_version(scope.request()));
            });
}

}  // namespace realmkit::api::crm

// /api/tasks: to-dos with an assignee and a due time, optionally about a record.
#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

task_id task_of(const request_scope& scope) {
  return task_id{path_id(scope.request())};
}

// "reminder_minutes_before": minutes, or null for none. The range is the domain's to check.
set_task_reminder read_reminder(const json_object& o, const task_id& id) {
  return set_task_reminder{id, o.optional_int64("reminder_minutes_before", 0, 1'000'000)};
}

// "recurrence": {"unit": "day"|"week"|"month", "every": n}, or null for none.
set_task_recurrence read_recurrence(const json_object& o, const task_id& id) {
  set_task_recurrence c{id, std::nullopt};
  if (const auto r = o.optional_object("recurrence")) {
    r->allow_only({"unit", "every"});
    c.recurrence =
        task_recurrence{read_enum<recurrence_unit>(*r, "unit"),
                        static_cast<int>(r->optional_int64("every", 0, 1'000).value_or(1))};
  }
  return c;
}

http_response create(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"title", "description", "assignee_id", "due_at", "link", "priority",
                "reminder_minutes_before", "recurrence"});
  create_task c;
  c.task = task_id{scope.services().new_id()};
  c.title = o.string("title");
  c.description = o.optional_string("description").value_or("");
  c.assignee = optional_id<user_id>(o, "assignee_id").value_or(scope.caller_id());
  scope.check_owner(*c.assignee, "assignee_id");
  c.due_at = optional_time(o, "due_at");
  if (o.has("link") && !o.is_null("link")) {
    c.link = read_ref(o, "link");
    check_linked(scope, c.link->kind, c.link->id, "link.id");
  }
  c.priority = optional_enum<task_priority>(o, "priority").value_or(task_priority::normal);
  // One append: a task never exists without the reminder and recurrence it was created with.
  std::vector<task_command> commands{c};
  if (o.has("reminder_minutes_before")) commands.push_back(read_reminder(o, c.task));
  if (o.has("recurrence")) commands.push_back(read_recurrence(o, c.task));
  return created_reply(commands::execute_all(scope.services().handler, commands, scope.metadata()),
                       "/api/tasks/");
}

http_response update(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  allow_with_version(
      o, {"title", "description", "priority", "due_at", "reminder_minutes_before", "recurrence"});
  const auto id = task_of(scope);
  std::vector<task_command> commands;
  edit_task e{id, o.optional_string("title"), o.optional_string("description"),
              optional_enum<task_priority>(o, "priority")};
  if (e.title || e.description || e.priority) commands.push_back(e);
  if (o.has("due_at")) commands.push_back(change_task_due{id, optional_time(o, "due_at")});
  if (o.has("reminder_minutes_before")) commands.push_back(read_reminder(o, id));
  if (o.has("recurrence")) commands.push_back(read_recurrence(o, id));
  return command_reply(execute_on_record(scope, commands, expected_version(scope.request(), o)));
}

}  // namespace

void add_task_routes(router& routes, crm_services& services) {
  add_route(routes, services, "GET", "/api/tasks", "tasks.list", perm::task_view,
            "List tasks (filters: owner (the assignee), team, status=open|done, "
            "subject=<kind>:<id>, updated_since)",
            [](request_scope& scope) {
              await_min_position(scope);
              const auto q =
                  list_params(scope, {"owner", "team", "status", "subject", "updated_since"}, true);
              return list_reply(scope.services().queries.list_tasks(q));
            });
  add_route(routes, services, "POST", "/api/tasks", "tasks.create", perm::task_edit,
            "Create a task", create);
  add_route(routes, services, "GET", "/api/tasks/{id}", "tasks.get", perm::task_view, "Get a task",
            [](request_scope& scope) {
              await_min_position(scope);
              auto found = scope.services().queries.find_task(path_id(scope.request()));
              if (found && found->state.deleted) found.reset();
              return view_reply(scope, visible_or_404(scope, std::move(found), "task"));
            });
  add_route(routes, services, "PATCH", "/api/tasks/{id}", "tasks.update", perm::task_edit,
            "Change a task's title, description, priority, due time, reminder or recurrence",
            update);
  add_route(routes, services, "DELETE", "/api/tasks/{id}", "tasks.delete", perm::task_edit,
            "Delete a task", [](request_scope& scope) {
              return record_command<task_command>(scope, delete_task{task_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/tasks/{id}/complete", "tasks.complete", perm::task_edit,
            "Complete a task (a recurring one's next occurrence is created with it)",
            [](request_scope& scope) {
              return command_reply(commands::complete_task(
                  scope.services().handler, task_of(scope), scope.metadata(),
                  bodyless_expected_version(scope.request()), scope.visible<task_state>()));
            });
  add_route(routes, services, "POST", "/api/tasks/{id}/reopen", "tasks.reopen", perm::task_edit,
            "Reopen a completed task", [](request_scope& scope) {
              return record_command<task_command>(scope, reopen_task{task_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/tasks/{id}/assignee", "tasks.reassign", perm::task_edit,
            "Give a task to another assignee", [](request_scope& scope) {
              return body_command<task_command>(scope, {"assignee_id"}, [&](const json_object& o) {
                const auto assignee = read_id<user_id>(o, "assignee_id");
                ensure_visible<task_aggregate>(scope, task_of(scope).value);
                scope.check_owner(assignee, "assignee_id");
                return reassign_task{task_of(scope), assignee};
              });
            });
}

}  // namespace realmkit::api::crm

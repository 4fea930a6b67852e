// /api/me: what concerns the caller, from the inbox read model — their open tasks by due time
// (managers and admins may look at another user's), and their notifications, newest first.
#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "projections/inbox/inbox_projection.hpp"
#include "projections/inbox/inbox_query.hpp"

namespace realmkit::api::crm {
namespace {

namespace inbox = projections::inbox;

const std::string kSubjectSchema =
    R"({"type":["object","null"],"required":["kind","id","title"],"properties":{)"
    R"("kind":{"type":"string"},"id":{"type":"string"},"title":{"type":["string","null"]}}})";

void write_subject(json_out& out, const std::optional<inbox::subject_ref>& s) {
  if (!s) {
    out.null();
    return;
  }
  out.begin_object();
  out.key("kind").string(s->kind);
  out.key("id").string(s->id);
  out.key("title").optional_string(s->title);
  out.end_object();
}

// Whose tasks: the caller's own, or with user= another user's — an admin anyone's, a manager a
// member of their team's; other roles only their own (403 naming user).
std::string tasks_owner(const request_scope& scope, const query_reader& q) {
  const auto user = q.id("user");
  if (!user || *user == scope.caller().user_id) return scope.caller().user_id;
  const auto role = scope.caller().role;
  if (role != domain::user_role::admin && role != domain::user_role::manager) {
    forbid("only managers and admins look at another user's tasks", "user");
  }
  if (!scope.can_see_owner(domain::user_id{*user})) {
    forbid("a manager looks only at the tasks of their team's members", "user");
  }
  return *user;
}

http_response my_tasks(request_scope& scope, infra::sql::session& db) {
  const query_reader q(scope.request(), {"due_before", "user", "cursor", "limit"});
  inbox::tasks_request request;
  request.user_id = tasks_owner(scope, q);
  request.due_before = q.time("due_before");
  request.limit = q.limit(inbox::kDefaultItems, inbox::kMaxItems);
  request.after = q.text("cursor");
  if (request.after && !inbox::valid_tasks_cursor(*request.after)) {
    fail("cursor", "is not a cursor this API gave out");
  }
  const auto page = inbox::read_tasks(db, request);
  json_out out;
  out.begin_object().key("items").begin_array();
  for (const auto& t : page.items) {
    out.begin_object();
    out.key("id").string(t.id);
    out.key("title").string(t.title);
    out.key("description").string(t.description);
    out.key("priority").string(t.priority);
    out.key("due_at");
    if (t.due_at) {
      out.time(*t.due_at);
    } else {
      out.null();
    }
    out.key("link");
    write_subject(out, t.link);
    out.key("assignee_id").string(t.assignee_id);
    out.key("created_at").time(t.created_at);
    out.end_object();
  }
  out.end_array();
  out.key("next_cursor").optional_string(page.next_cursor);
  out.key("position").integer(page.position);
  out.end_object();
  return http_response::json(200, out.take());
}

http_response my_notifications(request_scope& scope, infra::sql::session& db) {
  const query_reader q(scope.request(), {"cursor", "limit"});
  inbox::notifications_request request;
  request.user_id = scope.caller().user_id;
  request.now = scope.services().clock();
  request.limit = q.limit(inbox::kDefaultItems, inbox::kMaxItems);
  request.after = q.text("cursor");
  if (request.after && !inbox::valid_notifications_cursor(*request.after)) {
    fail("cursor", "is not a cursor this API gave out");
  }
  const auto page = inbox::read_notifications(db, request);
  json_out out;
  out.begin_object().key("items").begin_array();
  for (const auto& n : page.items) {
    out.begin_object();
    out.key("id").string(std::to_string(n.seq));
    out.key("kind").string(n.kind);
    out.key("at").time(n.at);
    out.key("subject");
    write_subject(out, n.subject);
    out.key("actor_id").optional_string(n.actor_id);
    out.key("actor_name").optional_string(n.actor_name);
    out.key("detail").optional_string(n.detail);
    out.end_object();
  }
  out.end_array();
  out.key("next_cursor").optional_string(page.next_cursor);
  out.key("position").integer(page.position);
  out.end_object();
  return http_response::json(200, out.take());
}

}  // namespace

void add_inbox_routes(router& routes, crm_services& services) {
  const std::vector<std::string> reads{std::string(inbox::kProjectionName)};
  add_read_route(routes, services, "/api/me/tasks", "inbox.tasks", auth::permission::task_view,
                 "The caller's open tasks by due time (due_before; user= for managers and admins)",
                 page_schema(R"("id":{"type":"string"},"title":{"type":"string"},)"
                             R"("description":{"type":"string"},"priority":{"type":"string"},)"
                             R"("due_at":{"type":["string","null"],"format":"date-time"},"link":)" +
                             kSubjectSchema +
                             R"(,"assignee_id":{"type":"string"},)"
                             R"("created_at":{"type":"string","format":"date-time"})"),
                 reads, my_tasks);
  add_read_route(
      routes, services, "/api/me/notifications", "inbox.notifications",
      auth::permission::activity_view,
      "The caller's notifications, newest first: records given to them, tasks due, their deals "
      "closed and activities on their records by others",
      page_schema(R"("id":{"type":"string"},"kind":{"type":"string"},)"
                  R"("at":{"type":"string","format":"date-time"},"subject":)" +
                  kSubjectSchema +
                  R"(,"actor_id":{"type":["string","null"]},)"
                  R"("actor_name":{"type":["string","null"]},"detail":{"type":["string","null"]})"),
      reads, my_notifications);
}

}  // namespace realmkit::api::crm

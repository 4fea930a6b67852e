// GET /api/me/tasks and /api/me/notifications over HTTP on both backends: the caller's open
// tasks by due time, what others did to their records, whose inbox a caller may read, bad input.
#include <doctest/doctest.h>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

std::vector<std::string> ids(const reply& r) {
  std::vector<std::string> out;
  for (const auto& i : r.json["items"].GetArray()) out.emplace_back(i["id"].GetString());
  return out;
}

std::vector<std::string> kinds(const reply& r) {
  std::vector<std::string> out;
  for (const auto& i : r.json["items"].GetArray()) out.emplace_back(i["kind"].GetString());
  return out;
}

std::string task_for(crm_fixture& f, const std::string& by, const std::string& assignee,
                     const std::string& title, const std::string& due) {
  const auto r = f.call("POST", "/api/tasks", by,
                        R"({"title":)" + quoted(title) + R"(,"assignee_id":)" + quoted(assignee) +
                            (due.empty() ? "" : R"(,"due_at":)" + quoted(due)) + "}");
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.str("id");
}

}  // namespace

TEST_CASE_TEMPLATE(
    "inbox over HTTP: a caller's tasks by due time and notifications of what "
    "others did",
    B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto& manager = f.a.manager;
  const auto overdue = task_for(f, manager, rep, "Overdue", "2020-01-01T09:00:00Z");
  const auto later = task_for(f, rep, rep, "Later", "2099-01-01T09:00:00Z");
  const auto undated = task_for(f, rep, rep, "Someday", "");
  task_for(f, manager, manager, "The manager's own", "2020-01-01T09:00:00Z");
  const auto given =
      f.call("POST", "/api/deals", manager,
             R"({"pipeline_id":")" + f.pipeline + R"(","stage_id":")" + f.stages[0] +
                 R"(","title":"Handed over",)" +
                 R"("value":{"amount_minor":5,"currency":"EUR"},"owner_id":)" + quoted(rep) + "}");
  REQUIRE(given.status == 201);

  auto r =
      f.call("GET", "/api/me/tasks?min_position=" + std::to_string(given.integer("position")), rep);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(ids(r) == std::vector<std::string>{overdue, later, undated});
  CHECK(std::string(r.json["items"][0]["due_at"].GetString()) == "2020-01-01T09:00:00.000000Z");
  CHECK(r.json["items"][2]["due_at"].IsNull());
  CHECK(ids(f.call("GET", "/api/me/tasks?due_before=2030-01-01T00:00:00Z", rep)) ==
        std::vector<std::string>{overdue});

  // Notifications: the deal and the task the manager gave, the task fallen due; not the rep's
  // own tasks, and not the one due in 2099.
  r = f.call("GET", "/api/me/notifications", rep);
  REQUIRE(r.status == 200);
  CHECK(kinds(r) == std::vector<std::string>{"deal.assigned", "task.assigned", "task.due"});
  const auto& deal_note = r.json["items"][0];
  CHECK(std::string(deal_note["subject"]["kind"].GetString()) == "deal");
  CHECK(std::string(deal_note["subject"]["id"].GetString()) == given.str("id"));
  CHECK(std::string(deal_note["subject"]["title"].GetString()) == "Handed over");
  CHECK(std::string(deal_note["actor_id"].GetString()) == manager);
  // A task of one's own falls due all the same; giving it was no news.
  CHECK(kinds(f.call("GET", "/api/me/notifications", manager)) ==
        std::vector<std::string>{"task.due"});

  // Pages.
  r = f.call("GET", "/api/me/notifications?limit=2", rep);
  REQUIRE(r.json["next_cursor"].IsString());
  r = f.call(
      "GET",
      "/api/me/notifications?limit=2&cursor=" + std::string(r.json["next_cursor"].GetString()),
      rep);
  CHECK(kinds(r) == std::vector<std::string>{"task.due"});
  CHECK(r.json["next_cursor"].IsNull());

  // Whose tasks: a manager may read a member of their team's, an admin anyone's; a rep only
  // their own, and a manager not another team's.
  CHECK(ids(f.call("GET", "/api/me/tasks?user=" + rep, manager)) ==
        std::vector<std::string>{overdue, later, undated});
  CHECK(f.call("GET", "/api/me/tasks?user=" + rep, f.admin).status == 200);
  CHECK(f.call("GET", "/api/me/tasks?user=" + rep, rep).status == 200);
  check_problem(f.call("GET", "/api/me/tasks?user=" + manager, rep), 403, "forbidden", "user");
  check_problem(f.call("GET", "/api/me/tasks?user=" + f.b.rep, manager), 403, "forbidden", "user");

  // Bad input.
  const auto head = f.head();
  check_problem(f.call("GET", "/api/me/tasks?due_before=tomorrow", rep), 422, "validation",
                "due_before");
  check_problem(f.call("GET", "/api/me/tasks?cursor=zzz", rep), 422, "validation", "cursor");
  check_problem(f.call("GET", "/api/me/tasks?limit=0", rep), 422, "validation", "limit");
  check_problem(f.call("GET", "/api/me/tasks?status=done", rep), 422, "validation", "status");
  check_problem(f.call("GET", "/api/me/tasks?user=bad%20id", manager), 422, "validation", "user");
  check_problem(f.call("GET", "/api/me/notifications?cursor=zzz", rep), 422, "validation",
                "cursor");
  check_problem(f.call("GET", "/api/me/notifications?limit=500", rep), 422, "validation", "limit");
  check_problem(
      f.call("GET", "/api/me/notifications?min_position=" + std::to_string(head + 1000), rep), 503,
      "unavailable");
  CHECK(f.head() == head);
}

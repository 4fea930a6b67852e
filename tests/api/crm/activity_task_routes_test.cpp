// /api/activities and /api/tasks over HTTP on both store backends.
#include <doctest/doctest.h>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

TEST_CASE_TEMPLATE("activities: log, edit, list on a record's timeline, delete", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto deal = f.make_deal(rep);
  const auto id = f.make_activity(rep, deal);
  const auto path = "/api/activities/" + id;

  auto edited = f.call("PATCH", path, rep, R"({"summary":"Discovery call","duration_minutes":45})");
  REQUIRE(edited.status == 200);
  auto got =
      f.call("GET", path + "?min_position=" + std::to_string(edited.integer("position")), rep);
  REQUIRE(got.status == 200);
  CHECK(got.str("summary") == "Discovery call");
  CHECK(got.integer("duration_minutes") == 45);
  CHECK(got.str("type") == "call");
  CHECK(std::string(got.json["subject"]["id"].GetString()) == deal);

  auto timeline = f.call("GET", "/api/activities?subject=deal:" + deal, rep);
  CHECK(timeline.json["items"].Size() == 1);
  CHECK(f.call("GET", "/api/activities?subject=deal:other", rep).json["items"].Size() == 0);

  const auto theirs = f.make_deal(f.b.rep);
  const auto head = f.head();
  // Logging on a record the caller cannot see reads as logging on nothing.
  check_problem(f.call("POST", "/api/activities", rep,
                       R"({"type":"note","subject":{"kind":"deal","id":")" + theirs +
                           R"("},"summary":"Peek","occurred_at":"2026-11-27T10:00:00Z"})"),
                422, "validation", "subject.id");
  check_problem(f.call("POST", "/api/activities", rep,
                       R"({"type":"fax","subject":{"kind":"deal","id":")" + deal +
                           R"("},"summary":"x","occurred_at":"2026-11-27T10:00:00Z"})"),
                422, "validation", "type");
  check_problem(f.call("POST", "/api/activities", rep,
                       R"({"type":"note","subject":{"kind":"deal","id":")" + deal +
                           R"("},"summary":"x","occurred_at":"yesterday"})"),
                422, "validation", "occurred_at");
  check_problem(f.call("POST", "/api/activities", rep,
                       R"({"type":"note","subject":{"kind":"planet","id":"x"},"summary":"x",)"
                       R"("occurred_at":"2026-11-27T10:00:00Z"})"),
                422, "validation", "subject.kind");
  check_problem(f.call("GET", "/api/activities?subject=deal", rep), 422, "validation", "subject");
  check_problem(f.call("GET", path, f.b.rep), 404, "not-found");
  CHECK(f.head() == head);

  auto deleted = f.call("DELETE", path, rep);
  REQUIRE(deleted.status == 200);
  f.sync();
  check_problem(f.call("GET", path, rep), 404, "not-found");
  CHECK(f.call("GET", "/api/activities?subject=deal:" + deal, rep).json["items"].Size() == 0);
}

TEST_CASE_TEMPLATE("tasks: create, reschedule, reassign, complete, reopen, delete", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto lead = f.make_lead(rep);
  auto created = f.call("POST", "/api/tasks", f.a.manager,
                        R"({"title":"Follow up","assignee_id":")" + rep +
                            R"(","due_at":"2026-12-01T09:00:00+01:00","priority":"high",)"
                            R"("link":{"kind":"lead","id":")" +
                            lead + R"("}})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const auto id = created.str("id");
  const auto path = "/api/tasks/" + id;
  auto got =
      f.call("GET", path + "?min_position=" + std::to_string(created.integer("position")), rep);
  REQUIRE(got.status == 200);
  CHECK(got.str("assignee_id") == rep);
  CHECK(got.str("due_at") == "2026-12-01T08:00:00.000000Z");
  CHECK(got.str("priority") == "high");
  CHECK(got.str("status") == "open");

  CHECK(f.call("PATCH", path, rep, R"({"description":"Bring the offer","due_at":null})").status ==
        200);
  CHECK(f.call("POST", path + "/complete", rep).status == 200);
  f.sync();
  auto list = f.call("GET", "/api/tasks?status=done&owner=" + rep, rep);
  CHECK(list.json["items"].Size() == 1);
  CHECK(f.call("POST", path + "/reopen", rep).status == 200);
  const auto head = f.head();
  check_problem(f.call("POST", path + "/assignee", rep, R"({"assignee_id":")" + f.a.rep2 + R"("})"),
                403, "forbidden", "assignee_id");
  check_problem(f.call("PATCH", path, rep, R"({"priority":"urgent"})"), 422, "validation",
                "priority");
  check_problem(
      f.call("POST", "/api/tasks", rep, R"({"title":"x","assignee_id":")" + f.b.rep + R"("})"), 403,
      "forbidden", "assignee_id");
  check_problem(f.call("GET", path, f.b.manager), 404, "not-found");
  CHECK(f.head() == head);
  auto reassigned =
      f.call("POST", path + "/assignee", f.a.manager, R"({"assignee_id":")" + f.a.rep2 + R"("})");
  REQUIRE(reassigned.status == 200);
  got =
      f.call("GET", path + "?min_position=" + std::to_string(reassigned.integer("position")), rep);
  CHECK(got.str("assignee_id") == f.a.rep2);
  CHECK(got.json["due_at"].IsNull());
  CHECK(got.str("description") == "Bring the offer");
  CHECK(f.call("DELETE", path, rep).status == 200);
  f.sync();
  check_problem(f.call("GET", path, rep), 404, "not-found");
}

TEST_CASE_TEMPLATE(
    "tasks: reminders and recurrence; completing a recurring task schedules the next", B,
    sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  auto created = f.call("POST", "/api/tasks", rep,
                        R"({"title":"Weekly pipeline review","due_at":"2030-01-07T09:00:00Z",)"
                        R"("reminder_minutes_before":30,"recurrence":{"unit":"week","every":1}})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const auto id = created.str("id");
  const auto path = "/api/tasks/" + id;
  auto got =
      f.call("GET", path + "?min_position=" + std::to_string(created.integer("position")), rep);
  REQUIRE(got.status == 200);
  CHECK(got.json["reminder_minutes_before"].GetInt64() == 30);
  CHECK(std::string(got.json["recurrence"]["unit"].GetString()) == "week");
  CHECK(got.json["recurrence"]["every"].GetInt64() == 1);
  CHECK(got.str("series_id") == id);
  CHECK(got.json["occurrence"].GetInt64() == 1);

  // Bad input changes nothing, and names the field.
  const auto head = f.head();
  check_problem(f.call("PATCH", path, rep, R"({"reminder_minutes_before":0})"), 422, "validation",
                "reminder_minutes_before");
  check_problem(f.call("PATCH", path, rep, R"({"recurrence":{"unit":"fortnight"}})"), 422,
                "validation", "recurrence.unit");
  check_problem(f.call("PATCH", path, rep, R"({"recurrence":{"unit":"day","every":400}})"), 422,
                "validation", "recurrence.every");
  check_problem(f.call("PATCH", path, rep, R"({"recurrence":{"unit":"day","often":true}})"), 422,
                "validation", "recurrence.often");
  check_problem(f.call("POST", "/api/tasks", rep,
                       R"({"title":"No due","recurrence":{"unit":"day","every":1}})"),
                422, "validation", "recurrence");
  CHECK(f.head() == head);

  // Completing creates the next occurrence, due a week later, with the same reminder; completing
  // again after a reopen does not create another.
  REQUIRE(f.call("POST", path + "/complete", rep).status == 200);
  REQUIRE(f.call("POST", path + "/reopen", rep).status == 200);
  const auto again = f.call("POST", path + "/complete", rep);
  REQUIRE(again.status == 200);
  auto next = f.call(
      "GET", "/api/tasks/" + id + "-r2?min_position=" + std::to_string(again.integer("position")),
      rep);
  INFO(next.body);
  REQUIRE(next.status == 200);
  CHECK(next.str("due_at") == "2030-01-14T09:00:00.000000Z");
  CHECK(next.str("status") == "open");
  CHECK(next.str("title") == "Weekly pipeline review");
  CHECK(next.json["reminder_minutes_before"].GetInt64() == 30);
  CHECK(next.json["occurrence"].GetInt64() == 2);
  CHECK(next.str("series_id") == id);
  f.sync();
  auto open = f.call("GET", "/api/tasks?status=open&owner=" + rep, rep);
  CHECK(open.json["items"].Size() == 1);

  // Stopping the recurrence: completing the second creates no third.
  REQUIRE(f.call("PATCH", "/api/tasks/" + id + "-r2", rep, R"({"recurrence":null})").status == 200);
  REQUIRE(f.call("POST", "/api/tasks/" + id + "-r2/complete", rep).status == 200);
  f.sync();
  check_problem(f.call("GET", "/api/tasks/" + id + "-r3", rep), 404, "not-found");
}

// GET /api/{deals,contacts,companies,leads}/{id}/timeline over HTTP on both backends: a record's
// events, activities and tasks newest first, hidden records and hidden items, paging, bad input.
#include <doctest/doctest.h>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

std::vector<std::string> entries(const reply& r) {
  std::vector<std::string> out;
  for (const auto& e : r.json["items"].GetArray()) {
    out.push_back(std::string(e["entry"].GetString()) + ":" + e["type"].GetString());
  }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE(
    "timelines over HTTP: events with who and from/to, activities and tasks, "
    "only what the caller may see",
    B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto deal = f.make_deal(f.a.rep, "Timeline deal");
  REQUIRE(f.call("POST", "/api/deals/" + deal + "/stage", f.a.manager,
                 R"({"stage_id":")" + f.stages[1] + R"("})")
              .status == 200);
  REQUIRE(f.call("POST", "/api/activities", f.a.rep,
                 R"({"type":"call","subject":{"kind":"deal","id":")" + deal +
                     R"("},"summary":"Intro call","occurred_at":"2001-01-01T10:00:00Z",)"
                     R"("duration_minutes":30})")
              .status == 201);
  const auto task = f.call("POST", "/api/tasks", f.a.rep,
                           R"({"title":"Send the offer","link":{"kind":"deal","id":")" + deal +
                               R"("},"due_at":"2030-01-01T09:00:00Z","priority":"high"})");
  REQUIRE(task.status == 201);
  // The admin logs a note owned by team B's rep on A's deal: A does not see that item.
  const auto foreign = f.call("POST", "/api/activities", f.admin,
                              R"({"type":"note","subject":{"kind":"deal","id":")" + deal +
                                  R"("},"summary":"B's note","occurred_at":"2001-01-01T11:00:00Z",)"
                                  R"("owner_id":")" +
                                  f.b.rep + R"("})");
  REQUIRE(foreign.status == 201);
  const std::string path = "/api/deals/" + deal + "/timeline";

  auto r =
      f.call("GET", path + "?min_position=" + std::to_string(foreign.integer("position")), f.a.rep);
  INFO(r.body);
  REQUIRE(r.status == 200);
  // Newest first: the task and the events were recorded now; the activities occurred in 2001.
  const auto seen = entries(r);
  REQUIRE(seen.size() == 4);
  CHECK(seen[0] == "task:task");
  CHECK(seen[1] == "event:deal.stage_moved");
  CHECK(seen[2] == "event:deal.created");
  CHECK(seen[3] == "activity:call");
  const auto& moved = r.json["items"][1];
  CHECK(std::string(moved["actor_id"].GetString()) == f.a.manager);
  CHECK(moved["actor_name"].IsString());
  CHECK(std::string(moved["data"]["from_stage_id"].GetString()) == f.stages[0]);
  CHECK(std::string(moved["data"]["to_stage_id"].GetString()) == f.stages[1]);
  CHECK(moved["version"].GetInt64() == 2);
  const auto& t = r.json["items"][0];
  CHECK(std::string(t["item_id"].GetString()) == task.str("id"));
  CHECK(std::string(t["summary"].GetString()) == "Send the offer");
  CHECK(std::string(t["status"].GetString()) == "open");
  CHECK(std::string(t["due_at"].GetString()) == "2030-01-01T09:00:00.000000Z");
  CHECK(std::string(t["priority"].GetString()) == "high");
  CHECK(r.json["items"][3]["duration_minutes"].GetInt64() == 30);

  // The admin sees B's note too; team B does not see A's deal at all.
  r = f.call("GET", path, f.admin);
  CHECK(r.json["items"].Size() == 5);
  check_problem(f.call("GET", path, f.b.rep), 404, "not-found");
  check_problem(f.call("GET", path, f.b.manager), 404, "not-found");
  check_problem(f.call("GET", path, f.loner), 404, "not-found");

  // Pages.
  r = f.call("GET", path + "?limit=3", f.a.rep);
  REQUIRE(r.json["items"].Size() == 3);
  REQUIRE(r.json["next_cursor"].IsString());
  const std::string cursor = r.json["next_cursor"].GetString();
  r = f.call("GET", path + "?limit=3&cursor=" + cursor, f.a.rep);
  CHECK(entries(r) == std::vector<std::string>{"activity:call"});
  CHECK(r.json["next_cursor"].IsNull());

  // Every kind of record has one.
  const auto contact = f.make_contact(f.a.rep, "Lovelace");
  const auto company = f.make_company(f.a.rep, "Acme");
  const auto lead = f.make_lead(f.a.rep);
  const auto now = "?min_position=" + std::to_string(f.head());
  CHECK(entries(f.call("GET", "/api/contacts/" + contact + "/timeline" + now, f.a.rep)) ==
        std::vector<std::string>{"event:contact.created"});
  CHECK(entries(f.call("GET", "/api/companies/" + company + "/timeline" + now, f.a.rep)) ==
        std::vector<std::string>{"event:company.created"});
  CHECK(entries(f.call("GET", "/api/leads/" + lead + "/timeline" + now, f.a.rep)) ==
        std::vector<std::string>{"event:lead.created"});
  check_problem(f.call("GET", "/api/leads/" + lead + "/timeline", f.b.rep), 404, "not-found");

  // Bad input.
  const auto head = f.head();
  check_problem(f.call("GET", path + "?cursor=junk", f.a.rep), 422, "validation", "cursor");
  check_problem(f.call("GET", path + "?limit=201", f.a.rep), 422, "validation", "limit");
  check_problem(f.call("GET", path + "?kind=task", f.a.rep), 422, "validation", "kind");
  check_problem(f.call("GET", "/api/deals/" + contact + "/timeline", f.a.rep), 404, "not-found");
  check_problem(f.call("GET", path + "?min_position=" + std::to_string(head + 1000), f.a.rep), 503,
                "unavailable");
  CHECK(f.head() == head);
}

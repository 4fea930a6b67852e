// The organisation over HTTP on both store backends: pipelines and their stages, users (unique
// e-mail addresses, roles, teams) and teams (membership kept in step with the users).
#include <doctest/doctest.h>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

std::vector<std::string> stage_ids(const reply& r) {
  std::vector<std::string> out;
  for (const auto& s : r.json["stages"].GetArray()) out.emplace_back(s["id"].GetString());
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("pipelines: create with stages, reshape the stages, archive", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& manager = f.a.manager;
  auto created =
      f.call("POST", "/api/pipelines", manager,
             R"({"name":"Enterprise","stages":[{"name":"Qualify","probability":10},)"
             R"({"name":"Propose","probability":50},{"name":"Close","probability":90}]})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const auto id = created.str("id");
  const auto path = "/api/pipelines/" + id;
  CHECK(created.header("Location") == path);
  CHECK(created.str("name") == "Enterprise");
  auto stages = stage_ids(created);
  REQUIRE(stages.size() == 3);
  CHECK(std::string(created.json["stages"][1]["name"].GetString()) == "Propose");

  auto added = f.call("POST", path + "/stages", manager,
                      R"({"name":"Negotiate","probability":70,"position":2})");
  REQUIRE(added.status == 200);
  auto now = stage_ids(added);
  REQUIRE(now.size() == 4);
  const auto negotiate = now[2];
  CHECK(f.call("PATCH", path + "/stages/" + negotiate, manager,
               R"({"name":"Negotiation","probability":75})")
            .status == 200);
  auto reordered = f.call("PUT", path + "/stages", manager,
                          R"({"stage_ids":[")" + now[0] + R"(",")" + now[2] + R"(",")" + now[1] +
                              R"(",")" + now[3] + R"("]})");
  REQUIRE(reordered.status == 200);
  CHECK(stage_ids(reordered)[1] == negotiate);
  CHECK(f.call("PATCH", path, manager, R"({"name":"Enterprise sales"})").status == 200);

  // A stage that holds an open deal cannot go; an empty one can.
  auto deal = f.call("POST", "/api/deals", f.a.rep,
                     R"({"pipeline_id":")" + id + R"(","stage_id":")" + negotiate +
                         R"(","title":"T","value":{"amount_minor":1,"currency":"EUR"}})");
  REQUIRE(deal.status == 201);
  f.sync();
  const auto head = f.head();
  check_problem(f.call("DELETE", path + "/stages/" + negotiate, manager), 409, "invalid-state",
                "stage_id");
  check_problem(f.call("DELETE", path + "/stages/nope", manager), 422, "validation", "stage_id");
  check_problem(f.call("POST", path + "/stages", manager, R"({"name":"propose","probability":5})"),
                422, "validation", "stage.name");
  check_problem(f.call("POST", "/api/pipelines", manager, R"({"name":"Empty","stages":[]})"), 422,
                "validation", "stages");
  check_problem(f.call("POST", "/api/pipelines", manager,
                       R"({"name":"P","stages":[{"name":"A","probability":"high"}]})"),
                422, "validation", "stages/0.probability");
  check_problem(f.call("POST", "/api/pipelines", f.a.rep, R"({"name":"P","stages":[]})"), 403,
                "forbidden");
  CHECK(f.head() == head);
  auto removed = f.call("DELETE", path + "/stages/" + now[3], manager);
  REQUIRE(removed.status == 200);
  CHECK(stage_ids(removed).size() == 3);
  auto archived = f.call("DELETE", path, manager);
  REQUIRE(archived.status == 200);

  auto got = f.call("GET", path + "?min_position=" + std::to_string(archived.integer("position")),
                    f.b.rep);
  REQUIRE(got.status == 200);  // pipelines are organisation-wide
  CHECK(got.str("name") == "Enterprise sales");
  CHECK(got.json["archived"].GetBool());
  CHECK(f.call("GET", "/api/pipelines", f.b.analyst).json["items"].Size() == 1);
  CHECK(f.call("GET", "/api/pipelines?include_archived=true", f.b.analyst).json["items"].Size() ==
        2);
}

TEST_CASE_TEMPLATE("users: registration, unique addresses, roles, teams, deactivation", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  auto created = f.call("POST", "/api/users", f.admin,
                        R"({"email":" New.Hire@Example.com ","display_name":"New Hire",)"
                        R"("role":"sales_rep","team_id":")" +
                            f.b.team + R"("})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const auto id = created.str("id");
  const auto path = "/api/users/" + id;
  auto got =
      f.call("GET", path + "?min_position=" + std::to_string(created.integer("position")), f.a.rep);
  REQUIRE(got.status == 200);
  CHECK(got.str("email") == "new.hire@example.com");
  CHECK(got.str("team_id") == f.b.team);
  CHECK_FALSE(got.has("password_hash"));
  CHECK_FALSE(got.json["has_password"].GetBool());
  auto team = f.call("GET", "/api/teams/" + f.b.team, f.a.rep);
  bool member = false;
  for (const auto& m : team.json["member_ids"].GetArray()) member |= m.GetString() == id;
  CHECK(member);

  const auto head = f.head();
  check_problem(
      f.call("POST", "/api/users", f.admin,
             R"({"email":"NEW.HIRE@example.com","display_name":"Twin","role":"analyst"})"),
      409, "already-exists", "email");
  check_problem(f.call("PATCH", path, f.admin, R"({"email":"rep-a@example.com"})"), 409,
                "already-exists", "email");
  check_problem(f.call("POST", "/api/users", f.admin,
                       R"({"email":"x@example.com","display_name":"X","role":"emperor"})"),
                422, "validation", "role");
  check_problem(
      f.call("POST", "/api/users", f.admin,
             R"({"email":"x@example.com","display_name":"X","role":"admin","team_id":"nope"})"),
      422, "validation", "team_id");
  check_problem(
      f.call("POST", "/api/users", f.admin,
             R"({"email":"x@example.com","display_name":"X","role":"admin","id":"mine"})"),
      422, "validation", "id");
  check_problem(f.call("POST", path + "/password", f.admin, R"({"password":"short"})"), 422,
                "validation", "password");
  check_problem(f.call("PATCH", path, f.a.manager, R"({"role":"admin"})"), 403, "forbidden");
  check_problem(f.call("PATCH", "/api/users/" + f.admin, f.admin, R"({"role":"analyst"})"), 409,
                "invalid-state", "role");
  CHECK(f.head() == head);

  auto changed = f.call("PATCH", path, f.admin,
                        R"({"display_name":"Senior Hire","role":"manager","team_id":")" + f.a.team +
                            R"(","email":"senior@example.com","expected_version":1})");
  INFO(changed.body);
  REQUIRE(changed.status == 200);
  CHECK(changed.integer("version") == 5);
  CHECK(f.call("POST", path + "/password", f.admin, R"({"password":"a long enough passphrase"})")
            .status == 200);
  CHECK(f.call("DELETE", path, f.admin).status == 200);
  auto back = f.call("POST", path + "/reactivate", f.admin);
  got = f.call("GET", path + "?min_position=" + std::to_string(back.integer("position")), f.admin);
  CHECK(got.str("role") == "manager");
  CHECK(got.str("team_id") == f.a.team);
  CHECK(got.json["active"].GetBool());
  CHECK(got.json["has_password"].GetBool());
  // The old address is free again.
  CHECK(f.call("POST", "/api/users", f.admin,
               R"({"email":"new.hire@example.com","display_name":"Another","role":"auditor"})")
            .status == 201);
  f.sync();
  auto list = f.call("GET", "/api/users?team=" + f.a.team + "&status=active", f.b.rep);
  CHECK(list.json["items"].Size() == 6);  // five seeded plus the moved hire
}

TEST_CASE_TEMPLATE("teams: admins run them, managers keep their own", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  auto created = f.call("POST", "/api/teams", f.admin,
                        R"({"name":"Team C","manager_id":")" + f.loner + R"("})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const auto id = created.str("id");
  auto got = f.call(
      "GET",
      "/api/users/" + f.loner + "?min_position=" + std::to_string(created.integer("position")),
      f.admin);
  CHECK(got.str("team_id") == id);

  const auto head = f.head();
  check_problem(f.call("POST", "/api/teams", f.a.manager, R"({"name":"Mine"})"), 403, "forbidden");
  check_problem(f.call("PATCH", "/api/teams/" + f.b.team, f.a.manager, R"({"name":"Ours"})"), 403,
                "forbidden");
  check_problem(f.call("PATCH", "/api/teams/" + f.a.team, f.a.manager,
                       R"({"manager_id":")" + f.a.rep + R"("})"),
                403, "forbidden", "manager_id");
  check_problem(f.call("POST", "/api/teams/" + f.a.team + "/members", f.a.manager,
                       R"({"user_id":")" + f.b.rep + R"("})"),
                403, "forbidden", "user_id");
  check_problem(f.call("DELETE", "/api/teams/" + f.a.team, f.a.manager), 403, "forbidden");
  check_problem(f.call("POST", "/api/teams/" + f.a.team + "/members", f.a.rep,
                       R"({"user_id":")" + f.loner + R"("})"),
                403, "forbidden");
  check_problem(f.call("POST", "/api/teams/" + f.a.team + "/members", f.admin,
                       R"({"user_id":"0193a1b2-0000-7000-8000-000000000009"})"),
                422, "validation", "user_id");
  CHECK(f.head() == head);

  CHECK(f.call("PATCH", "/api/teams/" + f.a.team, f.a.manager, R"({"name":"Team Alpha"})").status ==
        200);
  // The admin moves a rep from B to A; A's manager lets them go again.
  CHECK(f.call("POST", "/api/teams/" + f.a.team + "/members", f.admin,
               R"({"user_id":")" + f.b.rep + R"("})")
            .status == 200);
  f.sync();
  CHECK(f.call("GET", "/api/users/" + f.b.rep, f.admin).str("team_id") == f.a.team);
  auto released = f.call("DELETE", "/api/teams/" + f.a.team + "/members/" + f.b.rep, f.a.manager);
  REQUIRE(released.status == 200);
  got = f.call(
      "GET",
      "/api/users/" + f.b.rep + "?min_position=" + std::to_string(released.integer("position")),
      f.admin);
  CHECK(got.json["team_id"].IsNull());
  // Someone without a team may join a manager's team.
  CHECK(f.call("POST", "/api/teams/" + f.a.team + "/members", f.a.manager,
               R"({"user_id":")" + f.b.rep + R"("})")
            .status == 200);
  CHECK(f.call("PATCH", "/api/teams/" + id, f.admin, R"({"manager_id":null})").status == 200);
  auto archived = f.call("DELETE", "/api/teams/" + id, f.admin);
  REQUIRE(archived.status == 200);
  auto list =
      f.call("GET", "/api/teams?min_position=" + std::to_string(archived.integer("position")),
             f.b.auditor);
  CHECK(list.json["items"].Size() == 2);
}

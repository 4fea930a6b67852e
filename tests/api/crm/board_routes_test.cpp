// GET /api/pipelines/{id}/board over HTTP on both backends: the cards and totals a caller may
// see, paging a stage, read-your-writes and refusals of bad input.
#include <doctest/doctest.h>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

std::vector<std::string> card_ids(const rapidjson::Value& stage) {
  std::vector<std::string> out;
  for (const auto& d : stage["deals"].GetArray()) out.emplace_back(d["id"].GetString());
  return out;
}

std::int64_t total_of(const rapidjson::Value& stage, std::size_t i = 0) {
  return stage["total"][static_cast<rapidjson::SizeType>(i)]["amount_minor"].GetInt64();
}

}  // namespace

TEST_CASE_TEMPLATE(
    "board over HTTP: each caller's cards and totals, stage paging, "
    "read-your-writes, bad input",
    B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto d1 = f.make_deal(f.a.rep, "First");
  const auto d2 = f.make_deal(f.a.rep, "Second");
  const auto d3 = f.make_deal(f.a.rep2, "Third");
  const auto hidden = f.make_deal(f.b.rep, "Other team's");
  const auto moved = f.call("POST", "/api/deals/" + d3 + "/stage", f.a.rep2,
                            R"({"stage_id":")" + f.stages[1] + R"("})");
  REQUIRE(moved.status == 200);
  const std::string board = "/api/pipelines/" + f.pipeline + "/board";

  // Read your write: the move is on the board.
  auto r =
      f.call("GET", board + "?min_position=" + std::to_string(moved.integer("position")), f.a.rep);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.str("pipeline_id") == f.pipeline);
  CHECK(r.str("name") == "Sales");
  CHECK(r.integer("position") >= moved.integer("position"));
  const auto& stages = r.json["stages"];
  REQUIRE(stages.Size() == 3);
  CHECK(std::string(stages[0]["name"].GetString()) == "Lead");
  CHECK(card_ids(stages[0]) == std::vector<std::string>{d1, d2});
  CHECK(stages[0]["count"].GetInt64() == 2);
  CHECK(total_of(stages[0]) == 200000);
  CHECK(std::string(stages[0]["total"][0]["currency"].GetString()) == "EUR");
  CHECK(stages[0]["weighted"][0]["amount_minor"].GetInt64() == 60000);  // 30 %
  CHECK(card_ids(stages[1]) == std::vector<std::string>{d3});
  CHECK(stages[2]["count"].GetInt64() == 0);
  CHECK(stages[2]["total"].Size() == 0);
  const auto& card = stages[1]["deals"][0];
  CHECK(std::string(card["title"].GetString()) == "Third");
  CHECK(card["value"]["amount_minor"].GetInt64() == 100000);
  CHECK(card["version"].GetInt64() == 2);
  CHECK(std::string(card["owner_id"].GetString()) == f.a.rep2);
  CHECK(card["days_in_stage"].GetInt64() == 0);
  CHECK(card["stage_entered_at"].IsString());
  CHECK(stages[0]["next_cursor"].IsNull());

  // Team scope: B's rep sees B's deal only, the admin everything, a rep without a team nothing.
  r = f.call("GET", board, f.b.rep);
  CHECK(card_ids(r.json["stages"][0]) == std::vector<std::string>{hidden});
  CHECK(r.json["stages"][0]["count"].GetInt64() == 1);
  r = f.call("GET", board, f.admin);
  CHECK(r.json["stages"][0]["count"].GetInt64() == 3);
  CHECK(total_of(r.json["stages"][0]) == 300000);
  r = f.call("GET", board, f.loner);
  CHECK(r.json["stages"][0]["count"].GetInt64() == 0);
  CHECK(r.json["stages"][1]["deals"].Size() == 0);
  // Filters narrow within the scope; another team's filter finds nothing for a rep.
  r = f.call("GET", board + "?owner=" + f.a.rep2, f.a.manager);
  CHECK(r.json["stages"][0]["count"].GetInt64() == 0);
  CHECK(r.json["stages"][1]["count"].GetInt64() == 1);
  r = f.call("GET", board + "?team=" + f.b.team, f.a.rep);
  CHECK(r.json["stages"][0]["count"].GetInt64() == 0);
  r = f.call("GET", board + "?team=" + f.b.team, f.admin);
  CHECK(card_ids(r.json["stages"][0]) == std::vector<std::string>{hidden});

  // A stage a card at a time, with its own cursor; the count stays the stage's.
  r = f.call("GET", board + "?limit=1", f.a.rep);
  REQUIRE(r.json["stages"][0]["next_cursor"].IsString());
  CHECK(card_ids(r.json["stages"][0]) == std::vector<std::string>{d1});
  const std::string cursor = r.json["stages"][0]["next_cursor"].GetString();
  r = f.call("GET", board + "?limit=1&cursor=" + cursor, f.a.rep);
  REQUIRE(r.status == 200);
  REQUIRE(r.json["stages"].Size() == 1);
  CHECK(card_ids(r.json["stages"][0]) == std::vector<std::string>{d2});
  CHECK(r.json["stages"][0]["count"].GetInt64() == 2);
  CHECK(r.json["stages"][0]["next_cursor"].IsNull());
  r = f.call("GET", board + "?stage=" + f.stages[1], f.a.rep);
  REQUIRE(r.json["stages"].Size() == 1);
  CHECK(card_ids(r.json["stages"][0]) == std::vector<std::string>{d3});

  // Bad input: problem+json naming the parameter, nothing else happens.
  const auto head = f.head();
  check_problem(f.call("GET", board + "?colour=red", f.a.rep), 422, "validation", "colour");
  check_problem(f.call("GET", board + "?cursor=nonsense", f.a.rep), 422, "validation", "cursor");
  check_problem(f.call("GET", board + "?limit=201", f.a.rep), 422, "validation", "limit");
  check_problem(f.call("GET", board + "?limit=0", f.a.rep), 422, "validation", "limit");
  check_problem(f.call("GET", board + "?limit=1&limit=2", f.a.rep), 422, "validation", "limit");
  check_problem(f.call("GET", board + "?stage=" + f.pipeline, f.a.rep), 422, "validation", "stage");
  check_problem(f.call("GET", board + "?stage=" + f.stages[1] + "&cursor=" + cursor, f.a.rep), 422,
                "validation", "cursor");
  check_problem(f.call("GET", board + "?owner=not%20an%20id", f.a.rep), 422, "validation", "owner");
  check_problem(f.call("GET", board + "?min_position=x", f.a.rep), 422, "validation",
                "min_position");
  check_problem(f.call("GET", "/api/pipelines/" + d1 + "/board", f.a.rep), 404, "not-found");
  const auto late = f.call("GET", board + "?min_position=" + std::to_string(head + 1000), f.a.rep);
  check_problem(late, 503, "unavailable");
  CHECK(late.header("Retry-After") == "1");
  check_problem(f.call("GET", board, ""), 401, "unauthorized");
  CHECK(f.head() == head);
}

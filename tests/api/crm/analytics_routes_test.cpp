// /api/analytics over HTTP on both backends: reports read the analytics read model (waiting for
// min_position), managers see their team's figures only, roles without analytics:view are
// refused, bad parameters are named, and admins refresh PostgreSQL's materialized views.
#include <doctest/doctest.h>

#include <string>

#include "api/openapi.hpp"
#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

constexpr const char* kReports[] = {"pipeline",        "forecast",         "win-rates",
                                    "stage-durations", "stage-conversion", "funnel",
                                    "slipped-deals",   "sales-velocity",   "activities"};

}  // namespace

TEST_CASE_TEMPLATE("analytics over HTTP: reports read the read model and wait for min_position", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  f.make_deal(f.a.rep, "Team A's deal");
  const auto theirs = f.make_deal(f.b.rep, "Team B's deal");
  const auto won = f.call("POST", "/api/deals/" + theirs + "/win", f.b.rep);
  REQUIRE(won.status == 200);
  const auto position = won.integer("position");
  REQUIRE(position > 0);
  const std::string wait = "min_position=" + std::to_string(position);

  // Open deals per stage: only team A's deal is still open.
  auto r = f.call("GET", "/api/analytics/pipeline?" + wait, f.a.analyst);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.integer("position") >= position);
  REQUIRE(r.json["items"].Size() == 1);
  const auto& stage = r.json["items"][0];
  CHECK(std::string(stage["stage_id"].GetString()) == f.stages[0]);
  CHECK(std::string(stage["stage_name"].GetString()) == "Lead");
  CHECK(stage["deals"].GetInt64() == 1);
  CHECK(stage["value_minor"].GetInt64() == 100'000);
  CHECK(stage["weighted_minor"].GetInt64() == 30'000);  // 30% in that stage

  // Team B won its only closed deal.
  r = f.call("GET", "/api/analytics/win-rates?by=team&" + wait, f.a.analyst);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(std::string(r.json["by"].GetString()) == "team");
  REQUIRE(r.json["items"].Size() == 1);
  CHECK(std::string(r.json["items"][0]["team_id"].GetString()) == f.b.team);
  CHECK(r.json["items"][0]["won"].GetInt64() == 1);
  CHECK(r.json["items"][0]["win_rate"].GetDouble() == 1.0);

  // A manager sees their own team's figures only.
  r = f.call("GET", "/api/analytics/pipeline?" + wait, f.a.manager);
  REQUIRE(r.status == 200);
  CHECK(r.json["items"].Size() == 1);
  r = f.call("GET", "/api/analytics/win-rates?by=team&" + wait, f.a.manager);
  REQUIRE(r.status == 200);
  CHECK(r.json["items"].Size() == 0);
  r = f.call("GET", "/api/analytics/pipeline?" + wait, f.b.manager);
  REQUIRE(r.status == 200);
  CHECK(r.json["items"].Size() == 0);

  // Every report answers, with where its numbers come from.
  for (const auto* report : kReports) {
    INFO(report);
    r = f.call("GET", std::string("/api/analytics/") + report + "?" + wait, f.admin);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.integer("position") >= position);
    CHECK(r.json["items"].IsArray());
    const std::string source = r.str("source");
    CHECK((source == "current" || source == "live"));
  }
  r = f.call("GET", "/api/analytics/funnel", f.admin);
  CHECK(r.json["items"].Size() == 4);  // lead, qualified, deal, won

  // An admin refreshes PostgreSQL's views; SQLite has none to refresh.
  const auto refreshed = f.call("POST", "/api/analytics/refresh", f.admin);
  REQUIRE_MESSAGE(refreshed.status == 200, refreshed.body);
  const bool postgres = refreshed.json["refreshed"].GetBool();
  CHECK(postgres == (std::string(B::kName) == "postgres"));
  if (postgres) {
    CHECK(refreshed.json["views"].Size() == 8);
    CHECK(refreshed.integer("position") >= position);
    r = f.call("GET", "/api/analytics/pipeline", f.a.analyst);
    CHECK(r.str("source") == "materialized");
    CHECK(r.str("refreshed_at").size() == 27);
    CHECK(r.json["items"].Size() == 1);
    // A deal made after the refresh: the views do not have it, a reader asking for it does.
    f.make_deal(f.a.rep, "Later");
    const auto head = f.head();
    r = f.call("GET", "/api/analytics/pipeline", f.a.analyst);
    CHECK(r.json["items"][0]["deals"].GetInt64() == 1);
    r = f.call("GET", "/api/analytics/pipeline?min_position=" + std::to_string(head), f.a.analyst);
    CHECK(r.str("source") == "live");
    CHECK(r.json["items"][0]["deals"].GetInt64() == 2);
  } else {
    CHECK_FALSE(refreshed.str("reason").empty());
  }
}

TEST_CASE_TEMPLATE("analytics over HTTP: who may read and refresh", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  // Read without min_position: the analytics must exist first (a slow machine creates them late).
  f.sync_all();
  const std::string path = "/api/analytics/win-rates";
  CHECK(f.call("GET", path, f.admin).status == 200);
  CHECK(f.call("GET", path, f.a.manager).status == 200);
  CHECK(f.call("GET", path, f.a.analyst).status == 200);
  check_problem(f.call("GET", path, f.a.rep), 403, "forbidden");
  check_problem(f.call("GET", path, f.loner), 403, "forbidden");
  check_problem(f.call("GET", path, f.a.auditor), 403, "forbidden");
  check_problem(f.call("GET", path, ""), 401, "unauthorized");
  // A manager asking for another team's figures is refused, naming the parameter.
  check_problem(f.call("GET", path + "?team=" + f.b.team, f.a.manager), 403, "forbidden", "team");
  CHECK(f.call("GET", path + "?team=" + f.a.team, f.a.manager).status == 200);
  // Refreshing is for admins.
  CHECK(f.call("POST", "/api/analytics/refresh", f.admin).status == 200);
  check_problem(f.call("POST", "/api/analytics/refresh", f.a.analyst), 403, "forbidden");
  check_problem(f.call("POST", "/api/analytics/refresh", f.a.manager), 403, "forbidden");
}

TEST_CASE_TEMPLATE("analytics over HTTP: bad parameters are named, and nothing runs", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const struct {
    std::string target;
    std::string field;
  } bad[] = {
      {"/api/analytics/pipeline?colour=red", "colour"},
      {"/api/analytics/pipeline?from=2026-01-01", "from"},  // no dates for a snapshot
      {"/api/analytics/forecast?from=2026-13-01", "from"},
      {"/api/analytics/forecast?to=yesterday", "to"},
      {"/api/analytics/win-rates?from=2026-05-01&to=2026-04-30", "to"},
      {"/api/analytics/win-rates?by=colour", "by"},
      {"/api/analytics/funnel?source=tv", "source"},
      {"/api/analytics/activities?kind=lunch", "kind"},
      {"/api/analytics/slipped-deals?status=maybe", "status"},
      {"/api/analytics/slipped-deals?limit=0", "limit"},
      {"/api/analytics/slipped-deals?limit=1001", "limit"},
      {"/api/analytics/stage-durations?min_position=-1", "min_position"},
      {"/api/analytics/stage-durations?owner=", "owner"},
  };
  for (const auto& b : bad) {
    INFO(b.target);
    check_problem(f.call("GET", b.target, f.admin), 422, "validation", b.field);
  }
  check_problem(f.call("POST", "/api/analytics/refresh?now=1", f.admin), 422, "validation", "now");

  // A position the analytics have not reached: 503 after the bounded wait, with Retry-After.
  const auto r = f.call(
      "GET", "/api/analytics/pipeline?min_position=" + std::to_string(f.head() + 1000), f.admin);
  check_problem(r, 503, "unavailable");
  CHECK(r.header("Retry-After") == "1");
}

TEST_CASE("analytics over HTTP: every report is in the OpenAPI document") {
  crm_fixture f(sqlite_backend::make_store_and_database());
  const auto doc = api::openapi_document(f.routes());
  for (const auto* report : kReports) {
    CHECK_MESSAGE(doc.find(std::string("\"/api/analytics/") + report + "\"") != std::string::npos,
                  report);
  }
  CHECK(doc.find("\"/api/analytics/refresh\"") != std::string::npos);
  CHECK(doc.find("\"analytics.win_rates\"") != std::string::npos);
}

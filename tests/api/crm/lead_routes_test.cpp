// /api/leads over HTTP on both store backends: the status flow, scoring, and the conversion into
// a contact, company and deal in one atomic, idempotent step.
#include <doctest/doctest.h>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

TEST_CASE_TEMPLATE("leads: details, status flow and scoring over HTTP", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto id = f.make_lead(rep);
  const auto path = "/api/leads/" + id;

  CHECK(f.call("PATCH", path, rep, R"({"phone":"+1 555 0100","source":"referral"})").status == 200);
  const auto head = f.head();
  check_problem(f.call("POST", path + "/qualify", rep), 409, "invalid-state", "status");
  check_problem(f.call("PATCH", path, rep, R"({"source":"carrier pigeon"})"), 422, "validation",
                "source");
  check_problem(f.call("POST", path + "/score", rep, R"({"score":101,"model":"v1"})"), 422,
                "validation", "score");
  check_problem(f.call("POST", path + "/disqualify", rep, R"({})"), 422, "validation", "reason");
  CHECK(f.head() == head);

  CHECK(
      f.call("POST", path + "/score", rep, R"({"score":80,"reason":"fits","model":"v1"})").status ==
      200);
  CHECK(f.call("POST", path + "/contacted", rep).status == 200);
  CHECK(f.call("POST", path + "/disqualify", rep, R"({"reason":"no budget"})").status == 200);
  CHECK(f.call("POST", path + "/reopen", rep).status == 200);
  auto qualified = f.call("POST", path + "/qualify", rep, R"({"expected_version":6})");
  INFO(qualified.body);
  REQUIRE(qualified.status == 200);
  CHECK(qualified.integer("version") == 7);
  CHECK(f.call("POST", path + "/owner", rep, R"({"owner_id":")" + rep + R"("})").status == 200);

  auto got =
      f.call("GET", path + "?min_position=" + std::to_string(qualified.integer("position")), rep);
  CHECK(got.str("status") == "qualified");
  CHECK(got.integer("score") == 80);
  CHECK(got.str("source") == "referral");
  auto list = f.call("GET", "/api/leads?status=qualified", rep);
  CHECK(list.json["items"].Size() == 1);
  list = f.call("GET", "/api/leads?status=qualified", f.b.rep);
  CHECK(list.json["items"].Size() == 0);
}

TEST_CASE_TEMPLATE("leads: conversion creates contact, company and deal at once, once", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto id = f.make_lead(rep, "Grace Brewster Hopper");
  const auto path = "/api/leads/" + id;
  REQUIRE(f.call("POST", path + "/contacted", rep).status == 200);
  REQUIRE(f.call("POST", path + "/qualify", rep).status == 200);
  const std::string body = R"({"deal":{"pipeline_id":")" + f.pipeline + R"(","stage_id":")" +
                           f.stages[1] + R"(","value":{"amount_minor":990000,"currency":"USD"}}})";
  const auto head = f.head();

  check_problem(f.call("POST", path + "/convert", rep,
                       R"({"deal":{"pipeline_id":")" + f.pipeline +
                           R"(","stage_id":"nope","value":{"amount_minor":1,"currency":"USD"}}})"),
                422, "validation", "deal.stage_id");
  check_problem(f.call("POST", path + "/convert", f.b.rep, body), 404, "not-found");
  check_problem(f.call("POST", path + "/convert", rep, R"({"deal":{"pipeline_id":"x"}})"), 422,
                "validation", "deal.stage_id");
  CHECK(f.head() == head);

  auto converted = f.call("POST", path + "/convert", rep, body, {{"Idempotency-Key", "conv-1"}});
  INFO(converted.body);
  REQUIRE(converted.status == 200);
  CHECK(converted.str("id") == id);
  const auto contact = converted.str("contact_id");
  const auto company = converted.str("company_id");
  const auto deal = converted.str("deal_id");
  REQUIRE_FALSE(contact.empty());
  REQUIRE_FALSE(company.empty());
  REQUIRE_FALSE(deal.empty());
  const auto after = f.head();
  CHECK(after == head + 4);  // lead, contact, company and deal: one event each, one append

  // The same request again, with its key or without: the first conversion, nothing new.
  auto replay = f.call("POST", path + "/convert", rep, body, {{"Idempotency-Key", "conv-1"}});
  CHECK(replay.status == 200);
  CHECK(replay.body == converted.body);
  auto again = f.call("POST", path + "/convert", rep, body);
  CHECK(again.status == 200);
  CHECK(again.str("deal_id") == deal);
  CHECK(again.str("contact_id") == contact);
  CHECK(f.head() == after);

  f.sync();
  auto got = f.call("GET", "/api/deals/" + deal, rep);
  REQUIRE(got.status == 200);
  CHECK(got.str("title") == "Grace Brewster Hopper");
  CHECK(got.str("company_id") == company);
  CHECK(got.str("owner_id") == rep);
  got = f.call("GET", "/api/contacts/" + contact, rep);
  CHECK(got.str("first_name") == "Grace Brewster");
  CHECK(got.str("last_name") == "Hopper");
  got = f.call("GET", "/api/companies/" + company, rep);
  CHECK(got.str("name") == "Navy");
  got = f.call("GET", path, rep);
  CHECK(got.str("status") == "converted");
  CHECK(got.str("converted_deal_id") == deal);
  // A converted lead is read-only.
  check_problem(f.call("PATCH", path, rep, R"({"name":"x"})"), 409, "invalid-state");
}

TEST_CASE_TEMPLATE(
    "leads: a model trained on the team's own history scores open leads, with "
    "reasons, and lists sort by score",
    B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  auto lead_from = [&](const std::string& source, const std::string& name) {
    auto r = f.call(
        "POST", "/api/leads", rep,
        R"({"name":)" + quoted(name) + R"(,"source":")" + source + R"(","email":"x@example.com"})");
    REQUIRE(r.status == 201);
    return r.str("id");
  };
  // History: referrals convert, cold calls do not.
  for (int i = 0; i < 15; ++i) {
    const auto won = lead_from("referral", "Referral " + std::to_string(i));
    REQUIRE(f.call("POST", "/api/leads/" + won + "/contacted", rep).status == 200);
    REQUIRE(f.call("POST", "/api/leads/" + won + "/qualify", rep).status == 200);
    REQUIRE(f.call("POST", "/api/leads/" + won + "/convert", rep, "{}").status == 200);
    const auto lost = lead_from("cold_call", "Cold " + std::to_string(i));
    REQUIRE(f.call("POST", "/api/leads/" + lost + "/disqualify", rep, R"({"reason":"no fit"})")
                .status == 200);
  }
  const auto warm = lead_from("referral", "Open referral");
  const auto cold = lead_from("cold_call", "Open cold call");
  f.sync();

  check_problem(f.call("POST", "/api/leads/scoring/retrain", f.a.manager), 403, "forbidden");
  auto run = f.call("POST", "/api/leads/scoring/retrain", f.admin);
  INFO(run.body);
  REQUIRE(run.status == 200);
  REQUIRE(run.json["model"].IsObject());
  const std::string version = run.json["model"]["version"].GetString();
  CHECK(version.starts_with("lr-"));
  CHECK(run.json["history"].GetInt64() == 30);
  CHECK(run.json["open_leads"].GetInt64() == 2);
  CHECK(run.json["scored"].GetInt64() == 2);
  auto model = f.call("GET", "/api/leads/scoring", rep);
  REQUIRE(model.status == 200);
  CHECK(std::string(model.json["model"]["version"].GetString()) == version);
  CHECK(model.json["model"]["weights"].HasMember("source_conversion"));

  // Nothing changed: a second run records nothing, and gives the same version.
  auto again = f.call("POST", "/api/leads/scoring/retrain", f.admin);
  REQUIRE(again.status == 200);
  CHECK(std::string(again.json["model"]["version"].GetString()) == version);
  CHECK(again.json["scored"].GetInt64() == 0);

  f.sync();
  auto list = f.call("GET", "/api/leads?status=new&sort=-score", rep);
  INFO(list.body);
  REQUIRE(list.status == 200);
  REQUIRE(list.json["items"].Size() == 2);
  const auto& first = list.json["items"][0];
  const auto& second = list.json["items"][1];
  CHECK(std::string(first["id"].GetString()) == warm);
  CHECK(std::string(second["id"].GetString()) == cold);
  CHECK(first["score"].GetInt64() > second["score"].GetInt64());
  CHECK(std::string(first["score_model"].GetString()) == version);
  CHECK(std::string(first["score_reason"].GetString()).find("source: referral") !=
        std::string::npos);
  // Ascending, page by page: the cursor carries the score.
  auto page = f.call("GET", "/api/leads?status=new&sort=score&limit=1", rep);
  REQUIRE(page.status == 200);
  CHECK(std::string(page.json["items"][0]["id"].GetString()) == cold);
  auto next = f.call("GET",
                     "/api/leads?status=new&sort=score&limit=1&cursor=" +
                         std::string(page.json["next_cursor"].GetString()),
                     rep);
  REQUIRE(next.status == 200);
  CHECK(std::string(next.json["items"][0]["id"].GetString()) == warm);
  check_problem(f.call("GET", "/api/deals?sort=score", rep), 422, "validation", "sort");
}

// /api/deals over HTTP on both store backends: every command's happy path and its refusals, each
// refusal leaving the store as it was.
#include <doctest/doctest.h>

#include <map>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

TEST_CASE_TEMPLATE("deals: create, read, list, change and close over HTTP", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;

  auto created =
      f.call("POST", "/api/deals", rep,
             R"({"pipeline_id":")" + f.pipeline + R"(","stage_id":")" + f.stages[0] +
                 R"(","title":" Big deal ","value":{"amount_minor":250000,"currency":"EUR"},)"
                 R"("expected_close_date":"2026-12-31"})");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const auto id = created.str("id");
  CHECK(created.str("stream_id") == "deal-" + id);
  CHECK(created.integer("version") == 1);
  CHECK(created.integer("position") == f.head());
  CHECK(created.header("Location") == "/api/deals/" + id);

  // Read your write with min_position.
  auto got = f.call(
      "GET", "/api/deals/" + id + "?min_position=" + std::to_string(created.integer("position")),
      rep);
  REQUIRE(got.status == 200);
  CHECK(got.str("title") == "Big deal");
  CHECK(got.str("owner_id") == rep);
  CHECK(got.str("status") == "open");
  CHECK(got.str("stage_id") == f.stages[0]);
  CHECK(got.str("expected_close_date") == "2026-12-31");
  CHECK(got.json["value"]["amount_minor"].GetInt64() == 250000);
  CHECK(got.integer("version") == 1);
  CHECK(got.header("ETag") == "\"1\"");

  // A conditional GET with the current ETag: 304, no body.
  auto same = f.call("GET", "/api/deals/" + id, rep, {}, {{"If-None-Match", "\"1\""}});
  CHECK(same.status == 304);
  CHECK(same.body.empty());

  auto moved = f.call("POST", "/api/deals/" + id + "/stage", rep,
                      R"({"stage_id":")" + f.stages[1] + R"(","expected_version":1})");
  INFO(moved.body);
  REQUIRE(moved.status == 200);
  CHECK(moved.integer("version") == 2);
  CHECK(moved.str("id") == id);

  auto patched =
      f.call("PATCH", "/api/deals/" + id, rep,
             R"({"title":"Bigger deal","value":{"amount_minor":300000,"currency":"USD"},)"
             R"("expected_close_date":null})",
             {{"If-Match", "\"2\""}});
  INFO(patched.body);
  REQUIRE(patched.status == 200);
  CHECK(patched.integer("version") == 5);  // three events, one append

  const auto contact = f.make_contact(rep);
  const auto company = f.make_company(rep);
  CHECK(f.call("POST", "/api/deals/" + id + "/contacts", rep,
               R"({"contact_id":")" + contact + R"("})")
            .status == 200);
  CHECK(
      f.call("PUT", "/api/deals/" + id + "/company", rep, R"({"company_id":")" + company + R"("})")
          .status == 200);
  CHECK(f.call("POST", "/api/deals/" + id + "/value", rep,
               R"({"value":{"amount_minor":1,"currency":"EUR"}})")
            .status == 200);
  CHECK(f.call("POST", "/api/deals/" + id + "/owner", rep, R"({"owner_id":")" + rep + R"("})")
            .status == 200);
  auto lost = f.call("POST", "/api/deals/" + id + "/lose", rep, R"({"reason":"Budget cut"})");
  REQUIRE(lost.status == 200);
  auto reopened = f.call("POST", "/api/deals/" + id + "/reopen", rep,
                         R"({"stage_id":")" + f.stages[2] + R"("})");
  REQUIRE(reopened.status == 200);
  auto won = f.call("POST", "/api/deals/" + id + "/win", rep);
  REQUIRE(won.status == 200);

  got = f.call(
      "GET", "/api/deals/" + id + "?min_position=" + std::to_string(won.integer("position")), rep);
  REQUIRE(got.status == 200);
  CHECK(got.str("status") == "won");
  CHECK(got.str("title") == "Bigger deal");
  CHECK(got.str("company_id") == company);
  CHECK(got.json["contact_ids"].Size() == 1);
  CHECK(got.json["expected_close_date"].IsNull());
  CHECK(got.str("stage_id") == f.stages[2]);

  CHECK(f.call("DELETE", "/api/deals/" + id + "/contacts/" + contact, rep).status == 200);
  CHECK(f.call("DELETE", "/api/deals/" + id + "/company", rep).status == 200);

  // Listing: the rep's own deals, filtered.
  f.make_deal(rep, "Second");
  f.sync();
  auto list = f.call("GET", "/api/deals?status=open&owner=" + rep, rep);
  REQUIRE(list.status == 200);
  REQUIRE(list.json["items"].Size() == 1);
  CHECK(std::string(list.json["items"][0]["title"].GetString()) == "Second");
  list = f.call("GET", "/api/deals?pipeline=" + f.pipeline + "&stage=" + f.stages[2], rep);
  REQUIRE(list.json["items"].Size() == 1);
  CHECK(std::string(list.json["items"][0]["id"].GetString()) == id);

  // A sales rep may archive nothing (deal:delete); a manager of the team may.
  check_problem(f.call("DELETE", "/api/deals/" + id, rep), 403, "forbidden");
  auto archived = f.call("DELETE", "/api/deals/" + id, f.a.manager);
  REQUIRE(archived.status == 200);
  f.sync();
  list = f.call("GET", "/api/deals", rep);
  CHECK(list.json["items"].Size() == 1);
  list = f.call("GET", "/api/deals?include_archived=true", rep);
  CHECK(list.json["items"].Size() == 2);
  CHECK(f.call("POST", "/api/deals/" + id + "/restore", f.a.manager).status == 200);
}

TEST_CASE_TEMPLATE("deals: refused commands answer problem+json and write nothing", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto id = f.make_deal(rep);
  const auto head = f.head();

  SUBCASE("an unknown stage names stage_id") {
    check_problem(f.call("POST", "/api/deals/" + id + "/stage", rep, R"({"stage_id":"nope"})"), 422,
                  "validation", "stage_id");
  }
  SUBCASE("a stale expected version is a conflict with the current version") {
    auto r = f.call("POST", "/api/deals/" + id + "/stage", rep,
                    R"({"stage_id":")" + f.stages[1] + R"(","expected_version":7})");
    check_problem(r, 409, "version-conflict");
    CHECK(r.integer("current_version") == 1);
    r = f.call("POST", "/api/deals/" + id + "/win", rep, {}, {{"If-Match", "\"3\""}});
    check_problem(r, 409, "version-conflict");
    CHECK(r.integer("current_version") == 1);
  }
  SUBCASE("If-Match and expected_version must agree, and If-Match must be a version") {
    check_problem(f.call("POST", "/api/deals/" + id + "/stage", rep,
                         R"({"stage_id":")" + f.stages[1] + R"(","expected_version":1})",
                         {{"If-Match", "\"2\""}}),
                  422, "validation", "expected_version");
    check_problem(f.call("POST", "/api/deals/" + id + "/win", rep, {}, {{"If-Match", "\"x\""}}),
                  422, "validation", "If-Match");
  }
  SUBCASE("malformed JSON, wrong types, missing and unknown fields") {
    check_problem(f.call("POST", "/api/deals/" + id + "/stage", rep, R"({"stage_id":)"), 400,
                  "malformed-json");
    check_problem(f.call("POST", "/api/deals/" + id + "/stage", rep, R"({"stage_id":42})"), 422,
                  "validation", "stage_id");
    check_problem(f.call("POST", "/api/deals/" + id + "/stage", rep, R"({})"), 422, "validation",
                  "stage_id");
    check_problem(f.call("POST", "/api/deals/" + id + "/stage", rep,
                         R"({"stage_id":")" + f.stages[1] + R"(","owner_id":"x"})"),
                  422, "validation", "owner_id");
    check_problem(f.call("POST", "/api/deals", rep,
                         R"({"pipeline_id":")" + f.pipeline + R"(","stage_id":")" + f.stages[0] +
                             R"(","title":"T","value":{"amount_minor":"1","currency":"EUR"}})"),
                  422, "validation", "value.amount_minor");
    check_problem(
        f.call("POST", "/api/deals", rep,
               R"({"pipeline_id":")" + f.pipeline + R"(","stage_id":")" + f.stages[0] +
                   R"(","title":"T","value":{"amount_minor":1,"currency":"EUR"},"id":"mine"})"),
        422, "validation", "id");
    check_problem(f.call("POST", "/api/deals", rep, "[1,2]"), 422, "validation");
    check_problem(f.call("POST", "/api/deals/" + id + "/lose", rep, R"({"reason":"x"})",
                         {{"Content-Type", "text/plain"}}),
                  415, "unsupported-media-type");
  }
  SUBCASE("an unknown pipeline, an unknown id, a closed deal") {
    check_problem(f.call("POST", "/api/deals", rep,
                         R"({"pipeline_id":"nope","stage_id":"s","title":"T",)"
                         R"("value":{"amount_minor":1,"currency":"EUR"}})"),
                  422, "validation", "pipeline_id");
    check_problem(f.call("POST", "/api/deals/ghost/win", rep), 404, "not-found");
    check_problem(f.call("GET", "/api/deals/ghost", rep), 404, "not-found");
    check_problem(f.call("GET", "/api/deals/" + std::string(300, 'x'), rep), 404, "not-found");
  }
  SUBCASE("a sales rep gives deals to nobody else; linked records must exist") {
    check_problem(
        f.call("POST", "/api/deals/" + id + "/owner", rep, R"({"owner_id":")" + f.a.rep2 + R"("})"),
        403, "forbidden", "owner_id");
    check_problem(f.call("POST", "/api/deals", rep,
                         R"({"pipeline_id":")" + f.pipeline + R"(","stage_id":")" + f.stages[0] +
                             R"(","title":"T","value":{"amount_minor":1,"currency":"EUR"},)"
                             R"("owner_id":")" +
                             f.b.rep + R"("})"),
                  403, "forbidden", "owner_id");
    check_problem(f.call("POST", "/api/deals/" + id + "/contacts", rep,
                         R"({"contact_id":"0193a1b2-0000-7000-8000-000000000000"})"),
                  422, "validation", "contact_id");
    // A manager gives deals to members of their team only.
    check_problem(f.call("POST", "/api/deals/" + id + "/owner", f.a.manager,
                         R"({"owner_id":")" + f.b.rep + R"("})"),
                  403, "forbidden", "owner_id");
  }
  SUBCASE("a 10 MB body is refused before it is read; hostile nesting is refused") {
    const std::string big(10 * 1024 * 1024, ' ');
    auto r =
        f.raw(test::raw_request("POST", "/api/deals/" + id + "/lose",
                                {{kUserHeader, rep}, {"Content-Type", "application/json"}}, big));
    check_problem(r, 413, "payload-too-large");
    const std::string nested(100'000, '[');
    check_problem(f.call("POST", "/api/deals/" + id + "/lose", rep, nested), 400, "malformed-json");
  }
  SUBCASE("without authentication: 401") {
    check_problem(f.call("POST", "/api/deals/" + id + "/win", ""), 401, "unauthorized");
    check_problem(f.call("GET", "/api/deals", ""), 401, "unauthorized");
  }
  CHECK(f.head() == head);
}

TEST_CASE_TEMPLATE("deals: Idempotency-Key replays the first answer and writes nothing new", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const std::string body = R"({"pipeline_id":")" + f.pipeline + R"(","stage_id":")" + f.stages[0] +
                           R"(","title":"Once","value":{"amount_minor":5,"currency":"EUR"}})";
  auto first = f.call("POST", "/api/deals", rep, body, {{"Idempotency-Key", "create-once"}});
  REQUIRE(first.status == 201);
  const auto head = f.head();
  auto again = f.call("POST", "/api/deals", rep, body, {{"Idempotency-Key", "create-once"}});
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(again.header("Location") == first.header("Location"));
  CHECK(f.head() == head);

  // The key is the caller's own: another user with the same key creates their own deal.
  auto theirs = f.call("POST", "/api/deals", f.a.rep2, body, {{"Idempotency-Key", "create-once"}});
  REQUIRE(theirs.status == 201);
  CHECK(theirs.str("id") != first.str("id"));
  const auto after = f.head();

  // The same key with another body is refused.
  check_problem(f.call("POST", "/api/deals", rep,
                       R"({"pipeline_id":")" + f.pipeline + R"(","stage_id":")" + f.stages[0] +
                           R"(","title":"Twice","value":{"amount_minor":5,"currency":"EUR"}})",
                       {{"Idempotency-Key", "create-once"}}),
                422, "idempotency-key-reused");
  check_problem(
      f.call("POST", "/api/deals", rep, body, {{"Idempotency-Key", std::string(300, 'k')}}), 422,
      "validation", "Idempotency-Key");

  // A command replayed: same answer, even after the deal moved on.
  const auto id = first.str("id");
  auto move = f.call("POST", "/api/deals/" + id + "/stage", rep,
                     R"({"stage_id":")" + f.stages[1] + R"("})", {{"Idempotency-Key", "move-1"}});
  REQUIRE(move.status == 200);
  REQUIRE(
      f.call("POST", "/api/deals/" + id + "/stage", rep, R"({"stage_id":")" + f.stages[2] + R"("})")
          .status == 200);
  const auto before_replay = f.head();
  auto replay = f.call("POST", "/api/deals/" + id + "/stage", rep,
                       R"({"stage_id":")" + f.stages[1] + R"("})", {{"Idempotency-Key", "move-1"}});
  CHECK(replay.status == 200);
  CHECK(replay.body == move.body);
  CHECK(f.head() == before_replay);
  CHECK(after < before_replay);
}

TEST_CASE_TEMPLATE("deals: team visibility hides other teams' deals as not found", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto theirs = f.make_deal(f.b.rep, "Team B deal");
  const auto ours = f.make_deal(f.a.rep, "Team A deal");
  const auto head = f.head();

  check_problem(f.call("GET", "/api/deals/" + theirs, f.a.rep), 404, "not-found");
  check_problem(f.call("POST", "/api/deals/" + theirs + "/stage", f.a.rep,
                       R"({"stage_id":")" + f.stages[1] + R"("})"),
                404, "not-found");
  // Hidden beats every other refusal: a stale version on a hidden deal is still not found.
  check_problem(
      f.call("POST", "/api/deals/" + theirs + "/win", f.a.manager, {}, {{"If-Match", "\"9\""}}),
      404, "not-found");
  check_problem(f.call("GET", "/api/deals/" + theirs, f.loner), 404, "not-found");
  CHECK(f.head() == head);

  auto list = f.call("GET", "/api/deals", f.a.rep);
  REQUIRE(list.status == 200);
  REQUIRE(list.json["items"].Size() == 1);
  CHECK(std::string(list.json["items"][0]["id"].GetString()) == ours);
  // Asking for team B's deals explicitly shows nothing either.
  list = f.call("GET", "/api/deals?team=" + f.b.team, f.a.manager);
  CHECK(list.json["items"].Size() == 0);
  // A teammate sees and works the deal; analysts and admins see every team.
  CHECK(f.call("GET", "/api/deals/" + ours, f.a.rep2).status == 200);
  CHECK(f.call("GET", "/api/deals/" + theirs, f.a.analyst).status == 200);
  CHECK(f.call("GET", "/api/deals", f.admin).json["items"].Size() == 2);
  CHECK(f.call("GET", "/api/deals?team=" + f.b.team, f.a.auditor).json["items"].Size() == 1);
  CHECK(f.call("GET", "/api/deals", f.loner).json["items"].Size() == 0);
}

TEST_CASE_TEMPLATE("deals: next steps list open deals without an open task, with advice", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto quiet = f.make_deal(rep, "Quiet deal");
  const auto planned = f.make_deal(rep, "Planned deal");
  const auto task =
      f.call("POST", "/api/tasks", rep,
             R"({"title":"Send offer","link":{"kind":"deal","id":")" + planned + R"("}})");
  REQUIRE(task.status == 201);
  f.sync();
  auto steps = [&](const std::string& user) {
    auto r = f.call("GET", "/api/deals/next-steps?owner=" + rep, user);
    INFO(r.body);
    REQUIRE(r.status == 200);
    std::map<std::string, std::string> out;  // deal id → action
    for (const auto& item : r.json["items"].GetArray()) {
      CHECK(std::string(item["id"].GetString()) == item["deal"]["id"].GetString());
      out[item["id"].GetString()] = item["next_step"]["action"].GetString();
    }
    return out;
  };
  CHECK(steps(rep) == std::map<std::string, std::string>{{quiet, "first_contact"}});

  // Once something is logged, the stage decides (30 %: a proposal); once the task is done, the
  // planned deal needs a step too.
  f.make_activity(rep, quiet);
  REQUIRE(f.call("POST", "/api/tasks/" + task.str("id") + "/complete", rep).status == 200);
  f.sync();
  CHECK(steps(rep) ==
        std::map<std::string, std::string>{{quiet, "proposal"}, {planned, "first_contact"}});
  auto r = f.call("GET", "/api/deals/next-steps?owner=" + rep, rep);
  for (const auto& item : r.json["items"].GetArray()) {
    CHECK(std::string(item["next_step"]["title"].GetString()).size() > 0);
    CHECK(std::string(item["next_step"]["reason"].GetString()).size() > 0);
  }

  // Won deals need no step; other teams see none of it; unknown parameters are refused.
  REQUIRE(f.call("POST", "/api/deals/" + planned + "/win", rep).status == 200);
  f.sync();
  CHECK(steps(rep) == std::map<std::string, std::string>{{quiet, "proposal"}});
  CHECK(steps(f.b.manager).empty());
  check_problem(f.call("GET", "/api/deals/next-steps?colour=red", rep), 422, "validation",
                "colour");
}

// Duplicate contacts over HTTP on both backends: creating a contact that looks like one the caller
// sees answers 409 with the candidates and writes nothing, unless forced; a contact's duplicates
// are listed surest first; other teams' contacts, archived ones and bad input.
#include <doctest/doctest.h>

#include <set>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

std::vector<std::string> candidate_ids(const rapidjson::Value& items) {
  std::vector<std::string> out;
  for (const auto& c : items.GetArray()) out.emplace_back(c["contact"]["id"].GetString());
  return out;
}

std::vector<std::string> reasons_of(const rapidjson::Value& candidate) {
  std::vector<std::string> out;
  for (const auto& r : candidate["reasons"].GetArray()) out.emplace_back(r.GetString());
  return out;
}

std::string created(const reply& r) {
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return r.str("id");
}

// The read models up to the head: the duplicates read model answers with min_position.
void settle(crm_fixture& f, const std::string& contact, const std::string& user) {
  const auto r = f.call(
      "GET", "/api/contacts/" + contact + "/duplicates?min_position=" + std::to_string(f.head()),
      user);
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

}  // namespace

TEST_CASE_TEMPLATE(
    "duplicates over HTTP: a look-alike is refused with its candidates unless forced, and "
    "listed",
    B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto company = f.make_company(rep, "Lopez Logistics");
  const auto ana = created(f.call(
      "POST", "/api/contacts", rep,
      R"({"first_name":"Ana","last_name":"López","emails":[{"address":"Ana.Lopez@Example.com"}],)"
      R"("phones":[{"number":"+49 30 1234567"}],"company_id":")" +
          company + R"("})"));
  settle(f, ana, rep);
  const auto before = f.head();

  // The same mailbox, written otherwise: refused, naming Ana, and nothing is written.
  const std::string look_alike =
      R"({"first_name":"Anna","last_name":"Lopes","emails":[{"address":"ana.lopez+crm@example.com"}])";
  auto r = f.call("POST", "/api/contacts", rep, look_alike + "}");
  INFO(r.body);
  check_problem(r, 409, "possible-duplicate", "force");
  REQUIRE(r.json["candidates"].IsArray());
  CHECK(candidate_ids(r.json["candidates"]) == std::vector<std::string>{ana});
  CHECK(reasons_of(r.json["candidates"][0]) == std::vector<std::string>{"same_email"});
  CHECK(r.json["candidates"][0]["score"].GetDouble() == doctest::Approx(0.95));
  CHECK(std::string(r.json["candidates"][0]["contact"]["last_name"].GetString()) == "López");
  CHECK(f.head() == before);

  // Forced, it is created.
  const auto anna = created(f.call("POST", "/api/contacts", rep, look_alike + R"(,"force":true})"));

  // A national number for Ana's, and a near name at her company: both reasons, the surest first.
  const auto third = created(
      f.call("POST", "/api/contacts", rep,
             R"({"first_name":"Ana","last_name":"Lopez","phones":[{"number":"030 123 45 67"}],)"
             R"("company_id":")" +
                 company + R"(","force":true})"));
  settle(f, ana, rep);
  r = f.call("GET", "/api/contacts/" + ana + "/duplicates", rep);
  REQUIRE(r.status == 200);
  CHECK(candidate_ids(r.json["items"]) == std::vector<std::string>{third, anna});
  CHECK(reasons_of(r.json["items"][0]) ==
        std::vector<std::string>{"same_phone", "similar_name_same_company"});
  CHECK(r.json["items"][0]["score"].GetDouble() > r.json["items"][1]["score"].GetDouble());
  CHECK(r.integer("position") >= before);
  CHECK(r.json["next_cursor"].IsNull());
  CHECK(candidate_ids(
            f.call("GET", "/api/contacts/" + ana + "/duplicates?limit=1", rep).json["items"]) ==
        std::vector<std::string>{third});

  // Another team's rep sees none of them: creating the same person there is no duplicate, and
  // their contacts are not offered to Ana's team.
  const auto elsewhere = created(f.call("POST", "/api/contacts", f.b.rep, look_alike + "}"));
  settle(f, ana, rep);
  CHECK(candidate_ids(f.call("GET", "/api/contacts/" + ana + "/duplicates", rep).json["items"]) ==
        std::vector<std::string>{third, anna});
  CHECK(candidate_ids(
            f.call("GET", "/api/contacts/" + elsewhere + "/duplicates", f.b.rep).json["items"])
            .empty());
  check_problem(f.call("GET", "/api/contacts/" + ana + "/duplicates", f.b.rep), 404, "not-found");
  // The admin sees every team: Ana's duplicates include the other team's look-alike.
  const auto all = candidate_ids(
      f.call("GET", "/api/contacts/" + ana + "/duplicates?limit=50", f.admin).json["items"]);
  CHECK(std::find(all.begin(), all.end(), elsewhere) != all.end());

  // An archived contact is no candidate any more.
  REQUIRE(f.call("DELETE", "/api/contacts/" + third, f.a.manager).status ==
          200);  // a rep may not archive
  settle(f, ana, rep);
  CHECK(candidate_ids(f.call("GET", "/api/contacts/" + ana + "/duplicates", rep).json["items"]) ==
        std::vector<std::string>{anna});

  // Bad input changes nothing.
  check_problem(f.call("GET", "/api/contacts/" + ana + "/duplicates?limit=0", rep), 422,
                "validation", "limit");
  check_problem(f.call("GET", "/api/contacts/" + ana + "/duplicates?sort=name", rep), 422,
                "validation", "sort");
  check_problem(f.call("POST", "/api/contacts", rep, look_alike + R"(,"force":"yes"})"), 422,
                "validation", "force");
  check_problem(f.call("GET", "/api/contacts/no-such-contact/duplicates", rep), 404, "not-found");
}

TEST_CASE_TEMPLATE("duplicates over HTTP: every pair the caller sees, page by page", B,
                   sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const auto make = [&](const std::string& user, const std::string& body) {
    return created(f.call("POST", "/api/contacts", user, body));
  };
  const auto a = make(rep, R"({"last_name":"Ames","emails":[{"address":"pat@ames.example"}]})");
  const auto b = make(rep, R"({"last_name":"Amos","emails":[{"address":"PAT@ames.example"}],)"
                           R"("force":true})");
  const auto c = make(rep, R"({"last_name":"Cole","phones":[{"number":"+44 20 7946 0958"}]})");
  const auto d = make(rep, R"({"last_name":"Coles","phones":[{"number":"020 7946 0958"}],)"
                           R"("force":true})");
  make(rep, R"({"last_name":"Unrelated","emails":[{"address":"someone@else.example"}]})");
  // Another team's look-alike of a: not theirs to see, so not refused; nor shown to a's team.
  const auto other =
      make(f.b.rep, R"({"last_name":"Ames","emails":[{"address":"pat@ames.example"}]})");

  using pair_set = std::set<std::set<std::string>>;
  // Every page as `user`, following next_cursor: the pairs, and how many pages it took.
  const auto all_pairs = [&](const std::string& user, std::size_t limit) {
    pair_set out;
    std::string cursor;
    int pages = 0;
    for (;;) {
      auto r = f.call("GET",
                      "/api/contacts/duplicates?limit=" + std::to_string(limit) + "&min_position=" +
                          std::to_string(f.head()) + (cursor.empty() ? "" : "&cursor=" + cursor),
                      user);
      REQUIRE_MESSAGE(r.status == 200, r.body);
      ++pages;
      CHECK(r.json["items"].Size() <= limit);
      for (const auto& item : r.json["items"].GetArray()) {
        std::set<std::string> pair;
        for (const auto& contact : item["contacts"].GetArray())
          pair.insert(contact["id"].GetString());
        CHECK(item["score"].GetDouble() > 0);
        CHECK(item["reasons"].Size() >= 1);
        out.insert(pair);
      }
      if (r.json["next_cursor"].IsNull()) break;
      cursor = r.str("next_cursor");
      REQUIRE(pages < 10);
    }
    return std::pair{out, pages};
  };
  const pair_set mine = {{a, b}, {c, d}};
  CHECK(all_pairs(rep, 10).first == mine);
  const auto [paged, pages] = all_pairs(rep, 1);
  CHECK(paged == mine);
  CHECK(pages >= 2);
  CHECK(all_pairs(f.admin, 50).first == pair_set{{a, b}, {c, d}, {a, other}, {b, other}});
  CHECK(all_pairs(f.b.rep, 10).first.empty());

  check_problem(f.call("GET", "/api/contacts/duplicates?cursor=nope", rep), 422, "validation",
                "cursor");
  check_problem(f.call("GET", "/api/contacts/duplicates?limit=51", rep), 422, "validation",
                "limit");
}

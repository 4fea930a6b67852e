// GET /api/search over HTTP on both backends: prefix matching over every kind of record, the
// caller's team only, kinds, paging, and refusals of bad input.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

std::vector<std::string> hits(const reply& r) {
  std::vector<std::string> out;
  for (const auto& h : r.json["items"].GetArray()) {
    out.push_back(std::string(h["kind"].GetString()) + ":" + h["id"].GetString());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE_TEMPLATE(
    "search over HTTP: prefixes of words, the caller's team only, kinds, pages, "
    "bad input",
    B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto contact = f.make_contact(f.a.rep, "Annersley");
  const auto company = f.make_company(f.a.rep, "Annex Analytics");
  const auto deal = f.make_deal(f.a.rep, "Annual renewal");
  const auto lead = f.make_lead(f.a.rep, "Annabel Lee");
  const auto other = f.make_contact(f.b.rep, "Annalise");
  f.make_deal(f.a.rep, "Unrelated");
  // sync() waits for the records read model; the search is waited for with min_position.
  auto r = f.call("GET", "/api/search?q=ann&min_position=" + std::to_string(f.head()), f.a.rep);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(hits(r) ==
        sorted({"contact:" + contact, "company:" + company, "deal:" + deal, "lead:" + lead}));
  CHECK(r.integer("position") >= 1);
  CHECK(r.json["truncated"].IsFalse());
  CHECK(r.json["next_cursor"].IsNull());
  const auto& first = r.json["items"][0];
  CHECK(first["title"].IsString());
  CHECK(first["subtitle"].IsString());
  CHECK(first["rank"].IsInt64());

  // Another team's record is found by its team and the admin only.
  CHECK(hits(f.call("GET", "/api/search?q=annalise", f.a.rep)).empty());
  CHECK(hits(f.call("GET", "/api/search?q=annalise", f.b.rep)) ==
        std::vector<std::string>{"contact:" + other});
  CHECK(hits(f.call("GET", "/api/search?q=annalise", f.admin)) ==
        std::vector<std::string>{"contact:" + other});
  CHECK(hits(f.call("GET", "/api/search?q=ann", f.loner)).empty());

  // Kinds, several words, the words' order.
  CHECK(hits(f.call("GET", "/api/search?q=ann&kinds=deal,lead", f.a.rep)) ==
        sorted({"deal:" + deal, "lead:" + lead}));
  CHECK(hits(f.call("GET", "/api/search?q=renewal%20ANNUAL", f.a.rep)) ==
        std::vector<std::string>{"deal:" + deal});
  CHECK(hits(f.call("GET", "/api/search?q=navy&kinds=lead", f.a.rep)) ==
        std::vector<std::string>{"lead:" + lead});  // its company name

  // Pages of one hit; the cursor only fits the search it came from.
  std::vector<std::string> paged;
  std::string target = "/api/search?q=ann&limit=1";
  std::string cursor;
  for (int i = 0; i < 10; ++i) {
    r = f.call("GET", target + (cursor.empty() ? "" : "&cursor=" + cursor), f.a.rep);
    REQUIRE(r.status == 200);
    REQUIRE(r.json["items"].Size() == 1);
    paged.push_back(hits(r)[0]);
    if (r.json["next_cursor"].IsNull()) break;
    cursor = r.json["next_cursor"].GetString();
  }
  CHECK(sorted(paged) ==
        sorted({"contact:" + contact, "company:" + company, "deal:" + deal, "lead:" + lead}));
  r = f.call("GET", "/api/search?q=ann&limit=1", f.a.rep);
  const std::string first_cursor = r.json["next_cursor"].GetString();
  check_problem(f.call("GET", "/api/search?q=annex&limit=1&cursor=" + first_cursor, f.a.rep), 422,
                "validation", "cursor");

  // Read your write.
  const auto created =
      f.call("POST", "/api/contacts", f.a.rep, R"({"first_name":"Zebulon","last_name":"Quark"})");
  REQUIRE(created.status == 201);
  r = f.call("GET", "/api/search?q=zeb&min_position=" + std::to_string(created.integer("position")),
             f.a.rep);
  CHECK(hits(r) == std::vector<std::string>{"contact:" + created.str("id")});

  // Bad input.
  const auto head = f.head();
  check_problem(f.call("GET", "/api/search", f.a.rep), 422, "validation", "q");
  check_problem(f.call("GET", "/api/search?q=", f.a.rep), 422, "validation", "q");
  check_problem(f.call("GET", "/api/search?q=%21%21%21", f.a.rep), 422, "validation", "q");
  check_problem(f.call("GET", "/api/search?q=a%20b%20c%20d%20e%20f%20g%20h%20i", f.a.rep), 422,
                "validation", "q");
  check_problem(f.call("GET", "/api/search?q=" + std::string(201, 'a'), f.a.rep), 422, "validation",
                "q");
  check_problem(f.call("GET", "/api/search?q=ann&kinds=unicorn", f.a.rep), 422, "validation",
                "kinds");
  check_problem(f.call("GET", "/api/search?q=ann&kinds=", f.a.rep), 422, "validation", "kinds");
  check_problem(f.call("GET", "/api/search?q=ann&limit=101", f.a.rep), 422, "validation", "limit");
  check_problem(f.call("GET", "/api/search?q=ann&cursor=xyz", f.a.rep), 422, "validation",
                "cursor");
  check_problem(f.call("GET", "/api/search?q=ann&sort=name", f.a.rep), 422, "validation", "sort");
  CHECK(f.head() == head);
}

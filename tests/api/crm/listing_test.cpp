// Lists and reads: cursor pagination in every sort order, the parameters a list accepts,
// min_position waits, and the cursor format.
#include <doctest/doctest.h>

#include <set>

#include "commands/crm_commands.hpp"
#include "infra/ids.hpp"
#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

std::vector<std::string> titles(const reply& r) {
  std::vector<std::string> out;
  for (const auto& item : r.json["items"].GetArray()) out.emplace_back(item["title"].GetString());
  return out;
}

// Follows next_cursor from `first` to the last page; every page but the last is full.
std::vector<std::string> all_pages(crm_fixture& f, const std::string& first,
                                   const std::string& user, std::size_t page_size) {
  std::vector<std::string> out;
  std::string target = first;
  for (int pages = 0; pages < 100; ++pages) {
    auto r = f.call("GET", target, user);
    INFO(r.body);
    REQUIRE(r.status == 200);
    const auto page = titles(r);
    out.insert(out.end(), page.begin(), page.end());
    if (r.json["next_cursor"].IsNull()) return out;
    CHECK(page.size() == page_size);
    target = first + "&cursor=" + r.json["next_cursor"].GetString();
  }
  FAIL("pagination did not end");
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("lists page with opaque cursors in every sort order", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& rep = f.a.rep;
  const std::vector<std::string> names{"delta",   "Alpha",   "echo", "bravo",
                                       "Charlie", "foxtrot", "golf"};
  for (const auto& name : names) f.make_deal(rep, name);
  f.make_deal(f.b.rep, "hidden");  // another team's: never in rep's pages
  f.sync();

  const auto by_creation = all_pages(f, "/api/deals?limit=3&sort=created_at", rep, 3);
  CHECK(by_creation == names);
  auto reversed = names;
  std::reverse(reversed.begin(), reversed.end());
  CHECK(all_pages(f, "/api/deals?limit=2&sort=-created_at", rep, 2) == reversed);
  const std::vector<std::string> alphabetical{"Alpha", "bravo",   "Charlie", "delta",
                                              "echo",  "foxtrot", "golf"};
  CHECK(all_pages(f, "/api/deals?limit=4&sort=name", rep, 4) == alphabetical);
  CHECK(all_pages(f, "/api/deals?limit=200&sort=updated_at", rep, 200).size() == names.size());
  CHECK(titles(f.call("GET", "/api/deals", rep)).size() == names.size());  // default: 50

  // A cursor belongs to its sort order; garbage is no cursor.
  auto first = f.call("GET", "/api/deals?limit=2&sort=name", rep);
  const std::string cursor = first.json["next_cursor"].GetString();
  check_problem(f.call("GET", "/api/deals?limit=2&sort=-name&cursor=" + cursor, rep), 422,
                "validation", "cursor");
  check_problem(f.call("GET", "/api/deals?cursor=not-a-cursor", rep), 422, "validation", "cursor");
  check_problem(f.call("GET", "/api/deals?limit=0", rep), 422, "validation", "limit");
  check_problem(f.call("GET", "/api/deals?limit=201", rep), 422, "validation", "limit");
  check_problem(f.call("GET", "/api/deals?limit=ten", rep), 422, "validation", "limit");
  check_problem(f.call("GET", "/api/deals?sort=size", rep), 422, "validation", "sort");
  check_problem(f.call("GET", "/api/deals?colour=red", rep), 422, "validation", "colour");
  check_problem(f.call("GET", "/api/companies?stage=x", rep), 422, "validation", "stage");
  check_problem(f.call("GET", "/api/deals?updated_since=today", rep), 422, "validation",
                "updated_since");
  check_problem(f.call("GET", "/api/deals?include_archived=yes", rep), 422, "validation",
                "include_archived");
  CHECK(titles(f.call("GET", "/api/deals?updated_since=2000-01-01T00:00:00Z", rep)).size() ==
        names.size());
  CHECK(titles(f.call("GET", "/api/deals?updated_since=2999-01-01T00:00:00Z", rep)).empty());
}

TEST_CASE_TEMPLATE("min_position waits for the read side, within a bound", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto id = f.make_deal(f.a.rep);
  auto r = f.call("GET", "/api/deals/" + id + "?min_position=" + std::to_string(f.head()), f.a.rep);
  CHECK(r.status == 200);
  // A position the store has not reached: 503 after the bound (2 s in the fixture).
  r = f.call("GET", "/api/deals/" + id + "?min_position=" + std::to_string(f.head() + 1000),
             f.a.rep);
  check_problem(r, 503, "unavailable");
  CHECK(r.header("Retry-After") == "1");
  check_problem(f.call("GET", "/api/deals?min_position=-1", f.a.rep), 422, "validation",
                "min_position");
  check_problem(f.call("GET", "/api/deals/" + id + "?min_position=x", f.a.rep), 422, "validation",
                "min_position");
}

TEST_CASE("cursors round-trip and refuse anything else") {
  api::crm::cursor c{api::crm::sort_field::name, true, "key with \"quotes\"\n", "id-1"};
  const auto text = api::crm::encode_cursor(c);
  CHECK(text.find('=') == std::string::npos);
  const auto back = api::crm::decode_cursor(text);
  REQUIRE(back.has_value());
  CHECK(*back == c);
  CHECK_FALSE(api::crm::decode_cursor("").has_value());
  CHECK_FALSE(api::crm::decode_cursor("e30").has_value());  // "{}"
  CHECK_FALSE(api::crm::decode_cursor("!!!").has_value());
  CHECK_FALSE(api::crm::decode_cursor(std::string(5000, 'A')).has_value());
}

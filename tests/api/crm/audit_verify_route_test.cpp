// GET /api/audit/verify on both backends: an untouched log verifies, a changed event is named by
// position, up_to bounds the run, and bad input or a caller without audit:view changes nothing.
#include <doctest/doctest.h>

#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

// Changes one stored event behind the store's back, as someone with database access could.
void tamper(infra::event_store& store, std::int64_t position) {
  const auto where = " WHERE global_position = " + std::to_string(position);
  if (auto* sqlite = dynamic_cast<infra::sqlite_event_store*>(&store)) {
    auto db = infra::sql::open_sqlite_database({.path = sqlite->path()});
    db->acquire()->exec_script("UPDATE events SET data = '{\"tampered\":true}'" + where);
  } else {
    auto& pg = dynamic_cast<infra::postgres_event_store&>(store);
    testing::postgres_exec(pg.options().schema,
                           "UPDATE events SET data = '{\"tampered\":true}'::json" + where);
  }
}

}  // namespace

TEST_CASE_TEMPLATE("GET /api/audit/verify checks the hash chain for auditors", B, sqlite_backend,
                   postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  f.make_deal(f.a.rep);
  f.make_contact(f.b.rep);
  const auto head = f.head();
  REQUIRE(head > 5);

  auto r = f.call("GET", "/api/audit/verify", f.a.auditor);
  REQUIRE(r.status == 200);
  CHECK(r.json["verified"].GetBool());
  CHECK(r.json["head"].GetInt64() == head);
  CHECK(r.json["checked"].GetInt64() == head);
  CHECK(r.json["verified_through"].GetInt64() == head);
  CHECK(std::string(r.json["hash"].GetString()).size() == 64);
  CHECK(r.json["first_broken"].IsNull());

  r = f.call("GET", "/api/audit/verify?up_to=3", f.admin);
  REQUIRE(r.status == 200);
  CHECK(r.json["checked"].GetInt64() == 3);

  check_problem(f.call("GET", "/api/audit/verify?up_to=0", f.a.auditor), 422, "validation",
                "up_to");
  check_problem(f.call("GET", "/api/audit/verify?up_to=" + std::to_string(head + 1), f.a.auditor),
                422, "validation", "up_to");
  check_problem(f.call("GET", "/api/audit/verify?since=1", f.a.auditor), 422, "validation",
                "since");
  for (const auto& who : {f.a.rep, f.a.manager}) {
    CHECK(f.call("GET", "/api/audit/verify", who).status == 403);
  }

  tamper(f.store(), 4);
  r = f.call("GET", "/api/audit/verify", f.a.auditor);
  REQUIRE(r.status == 200);
  CHECK_FALSE(r.json["verified"].GetBool());
  CHECK(r.json["verified_through"].GetInt64() == 3);
  REQUIRE(r.json["first_broken"].IsObject());
  CHECK(r.json["first_broken"]["position"].GetInt64() == 4);
  CHECK(std::string(r.json["first_broken"]["reason"].GetString()).starts_with("hash mismatch"));
}

// The field diff behind /api/audit/streams/{id}/changes, and which streams are entities'.
#include "api/audit/entity_history.hpp"

#include <doctest/doctest.h>

using realmkit::api::audit::diff_json;
using realmkit::api::audit::entity_kind;

TEST_CASE("diff_json: changed, added and cleared fields by path; money and arrays whole") {
  const auto changes = diff_json(
      R"({"title":"A","value":{"amount_minor":1000000,"currency":"EUR"},"tags":["x"],)"
      R"("address":{"city":"Bonn","zip":"53111"},"close":"2026-12-01","owner":"u1"})",
      R"({"title":"A","value":{"amount_minor":1250000,"currency":"EUR"},"tags":["x","y"],)"
      R"("address":{"city":"Köln","zip":"53111"},"close":null,"owner":"u1","team":"t1"})");
  REQUIRE(changes.size() == 5);
  CHECK(changes[0].field == "address.city");
  CHECK(changes[0].from == R"("Bonn")");
  CHECK(changes[0].to == R"("Köln")");
  CHECK(changes[1].field == "close");
  CHECK(changes[1].to == "null");
  CHECK(changes[2].field == "tags");
  CHECK(changes[2].to == R"(["x","y"])");
  CHECK(changes[3].field == "team");
  CHECK(changes[3].from == "null");
  CHECK(changes[4].field == "value");
  CHECK(changes[4].from == R"({"amount_minor":1000000,"currency":"EUR"})");
  CHECK(changes[4].to == R"({"amount_minor":1250000,"currency":"EUR"})");
  CHECK(diff_json(R"({"a":1})", R"({"a":1})").empty());
}

TEST_CASE("entity_kind: the aggregate of a stream, none for other streams") {
  CHECK(entity_kind("deal-0193a1e0") == "deal");
  CHECK(entity_kind("user-u1") == "user");
  CHECK(entity_kind("task-t-1") == "task");
  CHECK_FALSE(entity_kind("user_email-abc"));
  CHECK_FALSE(entity_kind("deal"));
  CHECK_FALSE(entity_kind("deal-"));
  CHECK_FALSE(entity_kind("widget-1"));
}

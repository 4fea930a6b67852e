// The field diff behind /api/audit/streams/{id}/changes, and which streams are entities'.
#include "api/audit/entity_history.hpp"

#include <doctest/doctest.h>

#include <set>
#include <span>

#include "tests/infra/store_backends.hpp"
#include "tests/support/crm_history.hpp"

using realmkit::api::audit::diff_json;
using realmkit::api::audit::entity_kind;
using realmkit::api::audit::log_replayer;

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

TEST_CASE("log_replayer: folding pages on several threads gives what one thread gives") {
  auto store = realmkit::testing::sqlite_backend::make_store();
  realmkit::testing::crm_history history;
  history.append_to(*store, 4'000);
  const auto events = store->read_all(0, 100'000);
  REQUIRE(events.size() >= 4'000);

  log_replayer one;
  for (const auto& e : events) one.apply(e);
  log_replayer three(3);
  const std::span<const realmkit::infra::recorded_event> all(events);
  for (std::size_t at = 0; at < all.size(); at += 250) {
    three.apply(all.subspan(at, std::min<std::size_t>(250, all.size() - at)));
  }

  CHECK(three.applied() == one.applied());
  CHECK(three.skipped() == one.skipped());
  CHECK(three.streams() == one.streams());
  std::set<std::string> streams;
  for (const auto& e : events) streams.insert(e.stream_id);
  std::size_t folded = 0;
  for (const auto& id : streams) {
    const auto state = one.state_json(id);
    CHECK(three.state_json(id) == state);
    if (state) ++folded;
  }
  CHECK(folded == one.streams());
  CHECK(folded > 100);
}

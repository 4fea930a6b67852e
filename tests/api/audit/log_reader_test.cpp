// Reading the log for auditors, on both backends: the position a time falls at, and a filtered
// feed whose pages stop at their scan budget and go on from there without a gap or a repeat.
#include "api/audit/log_reader.hpp"

#include <doctest/doctest.h>

#include "infra/event_metadata.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

void append(infra::event_store& store, const std::string& stream, const std::string& actor, int n,
            int first) {
  infra::stream_write w{stream, std::nullopt, {}};
  for (int i = 0; i < n; ++i) {
    w.events.push_back({"ev-" + stream + "-" + std::to_string(first + i), "thing.happened.v1", 1,
                        "{}", infra::encode_metadata({actor, "corr-" + actor, "", "", ""})});
  }
  store.append(w);
}

}  // namespace

TEST_CASE_TEMPLATE("position_at: the last event recorded at or before a time", B, sqlite_backend,
                   postgres_backend) {
  auto store = B::make_store();
  CHECK(api::audit::position_at(*store, infra::timestamp{}) == 0);
  for (int i = 0; i < 12; ++i)
    append(*store, "thing-" + std::to_string(i % 3), "a", 1 + i % 2, i * 2);
  const auto events = store->read_all(0, 1'000);
  REQUIRE(events.size() == 18);
  for (const auto& e : events) {
    // Events of one append share their time: the position is that of the append's last one.
    CHECK(api::audit::position_at(*store, e.recorded_at) >= e.global_position);
    CHECK(api::audit::position_at(*store, e.recorded_at - std::chrono::microseconds(1)) <
          e.global_position);
  }
  CHECK(api::audit::position_at(*store, events.back().recorded_at + std::chrono::hours(1)) == 18);
}

TEST_CASE_TEMPLATE("read_feed: a sparse filter pages by scan budget, with no gap and no repeat", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  for (int i = 0; i < 10; ++i)
    append(*store, "thing-" + std::to_string(i), i % 4 ? "a" : "b", 3, 0);
  std::vector<std::int64_t> expected;
  for (const auto& e : store->read_all(0, 1'000)) {
    if (infra::decode_metadata(e.metadata).actor == "b") expected.push_back(e.global_position);
  }
  REQUIRE(expected.size() == 9);

  api::audit::feed_request request;
  request.upto = store->head_position();
  request.filter.actor = "b";
  request.limit = 2;
  request.max_scanned = 7;
  std::vector<std::int64_t> seen;
  int pages = 0;
  for (;; ++pages) {
    REQUIRE(pages < 50);
    const auto page = api::audit::read_feed(*store, request);
    CHECK(page.items.size() <= 2);
    CHECK(page.scanned_to <= request.after + 7);
    for (const auto& e : page.items) seen.push_back(e.global_position);
    if (page.complete) break;
    request.after = page.scanned_to;
  }
  CHECK(seen == expected);
  CHECK(pages > 4);  // the budget, not the limit alone, ended some pages

  // Filters by stream prefix and type kind.
  api::audit::feed_request by_stream;
  by_stream.upto = store->head_position();
  by_stream.filter.stream_prefix = "thing-1";
  by_stream.filter.type = "thing.happened";
  const auto page = api::audit::read_feed(*store, by_stream);
  CHECK(page.complete);
  CHECK(page.items.size() == 3);
}

// log_pages: a long stretch of the log read several pages ahead, handed over in order, on every
// backend; and what it does when a read fails or a page is not the one it expected.
#include "infra/log_pages.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>
#include <stdexcept>

#include "tests/infra/event_store_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace {

using namespace realmkit::testing::contract;
using realmkit::infra::log_pages;

// Appends `count` events, spread over a few streams, one commit per event.
void fill(event_store& store, int count) {
  std::map<std::string, std::int64_t> versions;
  for (int i = 1; i <= count; ++i) {
    const auto stream = "deal-" + std::to_string(i % 7);
    auto& version = versions[stream];
    store.append(write(stream, version == 0 ? kNoStream : expected_version(version),
                       {event("ev-" + std::to_string(i))}));
    ++version;
  }
}

std::vector<std::int64_t> read_through(log_pages& pages,
                                       std::vector<std::size_t>* sizes = nullptr) {
  std::vector<std::int64_t> out;
  for (auto page = pages.next(); !page.empty(); page = pages.next()) {
    if (sizes) sizes->push_back(page.size());
    for (const auto& e : page) out.push_back(e.global_position);
  }
  return out;
}

// Forwards to a real store, and can refuse or bend chosen reads the way a failing or damaged
// store would.
class bent_store final : public event_store {
 public:
  explicit bent_store(event_store& inner) : inner_(inner) {}
  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key) override {
    return inner_.append(writes, key);
  }
  std::optional<append_result> find_idempotent(const idempotency_key& key) override {
    return inner_.find_idempotent(key);
  }
  std::vector<recorded_event> read_stream(std::string_view stream_id, std::int64_t from,
                                          std::size_t max) override {
    return inner_.read_stream(stream_id, from, max);
  }
  std::int64_t stream_version(std::string_view stream_id) override {
    return inner_.stream_version(stream_id);
  }
  std::vector<recorded_event> read_all(std::int64_t after, std::size_t max) override {
    ++reads;
    if (after == fail_after && failures.fetch_sub(1) > 0) {
      throw realmkit::infra::corrupt_event("refused page after " + std::to_string(after));
    }
    if (after != hole_after) return inner_.read_all(after, max);
    // A log missing the page's second event, as a damaged one would give it: the page is still
    // `max` events long, and so ends one position further than it should.
    auto events = inner_.read_all(after, max + 1);
    if (events.size() > 1) events.erase(events.begin() + 1);
    return events;
  }
  std::size_t concurrent_reads() override { return 4; }
  std::int64_t head_position() override { return inner_.head_position(); }
  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) override {
    inner_.wait_for_append(position, timeout);
  }

  std::int64_t fail_after = -1;
  std::atomic<int> failures{0};
  std::int64_t hole_after = -1;
  std::atomic<int> reads{0};

 private:
  event_store& inner_;
};

template <class Backend>
void run_log_pages() {
  INFO("backend: " << std::string(Backend::kName));
  auto store = Backend::make_store();
  fill(*store, 53);
  REQUIRE(store->head_position() == 53);

  SUBCASE("every event once, in order, in pages of the size asked for") {
    for (std::size_t depth : {0, 1, 2, 4}) {
      log_pages pages(*store, 0, 53, 10, depth);
      std::vector<std::size_t> sizes;
      CHECK(read_through(pages, &sizes) == iota(1, 53));
      CHECK(sizes == std::vector<std::size_t>{10, 10, 10, 10, 10, 3});
      CHECK(pages.position() == 53);
      CHECK(pages.next().empty());
    }
  }

  SUBCASE("a stretch inside the log stops at its end, however long the log") {
    log_pages pages(*store, 17, 41, 5, 3);
    CHECK(read_through(pages) == iota(18, 41));
  }

  SUBCASE("an empty stretch reads nothing") {
    log_pages pages(*store, 30, 30, 10);
    CHECK(pages.next().empty());
  }

  SUBCASE("a log that ends before `upto` hands over what there is, then nothing") {
    log_pages pages(*store, 40, 90, 10, 2);
    CHECK(read_through(pages) == iota(41, 53));
  }

  SUBCASE("stopping early waits for the reads in flight") {
    bent_store bent(*store);
    {
      log_pages pages(bent, 0, 53, 5, 4);
      CHECK(pages.next().size() == 5);
    }
    // Four pages were asked for at the start and one more after the first was taken: every read
    // finished before the pages went away, so none touches `bent` after this point.
    CHECK(bent.reads.load() == 5);
  }

  SUBCASE("depth 0 reads a page only when it is asked for, on the caller's thread") {
    bent_store bent(*store);
    {
      log_pages pages(bent, 0, 53, 5, 0);
      CHECK(bent.reads.load() == 0);
      CHECK(pages.next().size() == 5);
      CHECK(pages.next().size() == 5);
      CHECK(bent.reads.load() == 2);
    }
    CHECK(bent.reads.load() == 2);
  }

  SUBCASE("a refused page is thrown in order, after the pages before it, and read again next") {
    bent_store bent(*store);
    bent.fail_after = 20;
    bent.failures = 1;
    log_pages pages(bent, 0, 53, 10, 3);
    CHECK(pages.next().front().global_position == 1);
    CHECK(pages.next().front().global_position == 11);
    CHECK_THROWS_AS(pages.next(), realmkit::infra::corrupt_event);
    CHECK(pages.position() == 20);
    std::vector<std::int64_t> rest = read_through(pages);
    CHECK(rest == iota(21, 53));
  }

  SUBCASE("a page with a hole is handed over as it is, and reading goes on from its end") {
    bent_store bent(*store);
    bent.hole_after = 10;
    log_pages pages(bent, 0, 53, 10, 3);
    std::vector<std::int64_t> expected = iota(1, 53);
    expected.erase(expected.begin() + 11);  // position 12, the page's second event
    // The pages read ahead from assumed positions were dropped: position 21, which the page
    // ended with, is not handed over a second time by the page read ahead from 20.
    CHECK(read_through(pages) == expected);
  }
}

}  // namespace

TEST_CASE("log pages on SQLite") {
  run_log_pages<realmkit::testing::sqlite_backend>();
}
TEST_CASE("log pages on PostgreSQL") {
  run_log_pages<realmkit::testing::postgres_backend>();
}

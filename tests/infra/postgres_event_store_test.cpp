// What only the PostgreSQL store has to prove: connection failures, migrations racing between
// stores, corrupt rows, the position lock seen from other connections and processes, and the
// group-commit batch isolating an append the server refuses.
#include "infra/postgres/postgres_event_store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include "infra/migrations.hpp"
#include "tests/infra/postgres_test_support.hpp"

using namespace realmkit::infra;
using namespace std::chrono_literals;
using realmkit::testing::drop_postgres_schema;
using realmkit::testing::fresh_postgres_options;
using realmkit::testing::postgres_exec;
using realmkit::testing::postgres_query_value;
using realmkit::testing::postgres_test_url;
using realmkit::testing::run_writer;
using realmkit::testing::unique_postgres_schema;

namespace {

new_event event(std::string id, std::string data = R"({"n":1})") {
  return new_event{std::move(id), "test.happened.v1", 1, std::move(data), R"({"actor":"u-1"})"};
}

stream_write write(std::string stream, expected_version expected, std::vector<new_event> events) {
  return stream_write{std::move(stream), expected, std::move(events)};
}

// Waits for `done()` to hold, re-checking whenever the condition variable is notified.
template <class Predicate>
bool wait_until(std::mutex& mutex, std::condition_variable& cv, Predicate done,
                std::chrono::seconds deadline = 30s) {
  std::unique_lock lock(mutex);
  return cv.wait_for(lock, deadline, done);
}

// Re-evaluates a condition on the database until it holds or the deadline passes.
template <class Predicate>
bool eventually(Predicate done, std::chrono::seconds deadline = 30s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
  }
  return false;
}

// A before_commit hook a test drives: the first `hold` transactions wait in the hook until the
// test releases them, each with a verdict (commit or roll back).
class commit_gate {
 public:
  void operator()(const pending_commit& commit) {
    std::unique_lock lock(mutex_);
    if (holds_left_ == 0) return;
    --holds_left_;
    entered_.push_back(commit);
    cv_.notify_all();
    cv_.wait(lock, [&] { return verdicts_ > 0; });
    --verdicts_;
    if (rollback_) throw std::runtime_error("rolled back by the test");
  }
  void hold(int transactions) {
    std::lock_guard lock(mutex_);
    holds_left_ += transactions;
  }
  // True once `count` transactions have entered the hook.
  bool wait_entered(std::size_t count) {
    return wait_until(mutex_, cv_, [&] { return entered_.size() >= count; });
  }
  void release(bool rollback) {
    std::lock_guard lock(mutex_);
    rollback_ = rollback;
    ++verdicts_;
    cv_.notify_all();
  }
  std::vector<pending_commit> entered() {
    std::lock_guard lock(mutex_);
    return entered_;
  }

 private:
  std::mutex mutex_;  // guards everything below
  std::condition_variable cv_;
  int holds_left_ = 0;
  int verdicts_ = 0;
  bool rollback_ = false;
  std::vector<pending_commit> entered_;
};

// The URL with an application_name, so a test can find its own sessions in pg_stat_activity.
std::string url_named(const std::string& name) {
  auto url = postgres_test_url();
  url += url.find('?') == std::string::npos ? '?' : '&';
  return url + "application_name=" + name;
}

int session_count(const std::string& application, const std::string& extra_condition = "true") {
  return std::stoi(postgres_query_value(
      "public", "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + application +
                    "' AND " + extra_condition));
}

}  // namespace

TEST_SUITE("postgres event store") {
  TEST_CASE("an unreachable server is store_unavailable with the reason, password hidden") {
    postgres_store_options options;
    options.url = "postgresql://realmkit:s3cret@127.0.0.1:1/realmkit";
    options.connect_timeout = 2s;
    std::string message;
    try {
      postgres_event_store store(options);
    } catch (const store_unavailable& e) {
      message = e.what();
    }
    INFO(message);
    CHECK(message.find("cannot connect to PostgreSQL at postgresql://realmkit:***@127.0.0.1:1") !=
          std::string::npos);
    CHECK(message.find("s3cret") == std::string::npos);
    CHECK(message.find("refused") != std::string::npos);  // libpq's reason comes along
    CHECK_THROWS_AS(migrate_postgres(options), store_unavailable);
  }

  TEST_CASE("a database that does not exist is store_unavailable naming it") {
    auto options = fresh_postgres_options();
    const auto slash = options.url.rfind('/');
    options.url = options.url.substr(0, slash) + "/realmkit_no_such_database";
    try {
      postgres_event_store store(options);
      FAIL("the store opened a database that does not exist");
    } catch (const store_unavailable& e) {
      CHECK(std::string(e.what()).find("realmkit_no_such_database") != std::string::npos);
    }
  }

  TEST_CASE("a schema name that is not a plain lowercase identifier is refused") {
    for (const char* bad : {"", "Events", "a-b", "x;drop table events", "1abc",
                            "a_name_that_is_far_too_long_for_the_notify_channel_x"}) {
      CAPTURE(bad);
      auto options = fresh_postgres_options();
      options.schema = bad;
      CHECK_THROWS_AS(postgres_event_store{options}, std::invalid_argument);
    }
    auto options = fresh_postgres_options();
    options.schema = "public";  // with drop_schema_on_close: never dropped
    CHECK_THROWS_AS(postgres_event_store{options}, std::invalid_argument);
  }

  TEST_CASE("stores starting at once migrate a new schema exactly once, then share it") {
    auto options = fresh_postgres_options();
    options.drop_schema_on_close = false;  // several stores share it: dropped at the end

    constexpr int kStores = 4;
    std::barrier start(kStores);
    std::vector<std::unique_ptr<postgres_event_store>> stores(kStores);
    std::vector<std::string> errors(kStores);
    std::vector<std::thread> threads;
    for (int i = 0; i < kStores; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        try {
          stores[static_cast<std::size_t>(i)] = std::make_unique<postgres_event_store>(options);
        } catch (const std::exception& e) {
          errors[static_cast<std::size_t>(i)] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e == "");

    const auto migrations = migrations_for(backend::postgres);
    REQUIRE_FALSE(migrations.empty());
    CHECK(postgres_query_value(options.schema, "SELECT count(*) FROM schema_migrations") ==
          std::to_string(migrations.size()));
    CHECK(postgres_query_value(options.schema, "SELECT max(version) FROM schema_migrations") ==
          std::to_string(migrations.back().version));
    CHECK(postgres_query_value(options.schema, "SELECT count(*) FROM event_position") == "1");

    if (stores[0] && stores[3]) {
      stores[0]->append(write("s", kNoStream, {event("e1")}));
      CHECK(stores[3]->stream_version("s") == 1);
      CHECK(stores[3]->read_all(0, 10).size() == 1);
    }
    stores.clear();

    // Reopening applies nothing again and keeps the events.
    CHECK(migrate_postgres(options) == migrations.back().version);
    {
      postgres_event_store reopened(options);
      CHECK(reopened.head_position() == 1);
    }
    CHECK(postgres_query_value(options.schema, "SELECT count(*) FROM schema_migrations") ==
          std::to_string(migrations.size()));
    drop_postgres_schema(options.schema);
  }

  TEST_CASE("a schema migrated by a newer release is refused and left alone") {
    auto options = fresh_postgres_options();
    postgres_event_store store(options);
    store.append(write("s", kNoStream, {event("e1")}));
    postgres_exec(options.schema,
                  "INSERT INTO schema_migrations (version, name) VALUES (9999, "
                  "'9999_from_the_future')");
    auto second = options;
    second.drop_schema_on_close = false;
    std::string message;
    try {
      postgres_event_store newer(second);
    } catch (const store_unavailable& e) {
      FAIL("a newer schema must not look like a retryable outage: " << e.what());
    } catch (const store_error& e) {
      message = e.what();
    }
    INFO(message);
    CHECK(message.find("9999") != std::string::npos);
    CHECK(message.find("newer") != std::string::npos);
    CHECK_THROWS_AS(migrate_postgres(second), store_error);
    CHECK(store.head_position() == 1);
  }

  TEST_CASE("a corrupt row is reported as corrupt_event, never skipped") {
    auto options = fresh_postgres_options();
    postgres_event_store store(options);
    const auto& schema = options.schema;
    store.append(write("s", kNoStream, {event("e1")}));
    // Drop what protects the table, as a damaged or hand-edited database would have.
    postgres_exec(schema,
                  "ALTER TABLE events ALTER COLUMN type DROP NOT NULL, "
                  "ALTER COLUMN recorded_at DROP NOT NULL, ALTER COLUMN data DROP NOT NULL, "
                  "DROP CONSTRAINT events_stream_version_check");

    struct corruption {
      const char* name;
      std::string values;  // after (global_position, event_id, stream_id, stream_version,
      const char* reason;
    };
    const std::vector<corruption> cases{
        {"NULL type", "2, NULL, 1, now(), '{}', '{}'", "type"},
        {"NULL data", "2, 't', 1, now(), NULL, '{}'", "data"},
        {"data an array", "2, 't', 1, now(), '[1,2]', '{}'", "data"},
        {"metadata a string", "2, 't', 1, now(), '{}', '\"x\"'", "metadata"},
        {"NULL recorded_at", "2, 't', 1, NULL, '{}', '{}'", "recorded_at"},
    };
    SUBCASE("NULL columns and JSON that is not an object") {
      for (const auto& c : cases) {
        CAPTURE(c.name);
        postgres_exec(schema,
                      "INSERT INTO events (global_position, event_id, stream_id, "
                      "stream_version, type, schema_version, recorded_at, data, metadata) "
                      "VALUES (2, 'bad', 's', " +
                          c.values +
                          "); UPDATE event_position SET last = 2; "
                          "UPDATE event_durable_position SET last = 2");
        try {
          store.read_all(0, 10);
          FAIL("read_all returned a corrupt row");
        } catch (const corrupt_event& e) {
          CHECK(std::string(e.what()).find(c.reason) != std::string::npos);
          CHECK(std::string(e.what()).find("position 2") != std::string::npos);
        }
        CHECK_THROWS_AS(store.read_stream("s"), corrupt_event);
        CHECK(store.read_all(0, 1).size() == 1);  // the good event before it still reads
        postgres_exec(
            schema,
            "DELETE FROM events WHERE global_position = 2; "
            "UPDATE event_position SET last = 1; UPDATE event_durable_position SET last = 1");
      }
    }

    SUBCASE("a stream version below 1") {
      postgres_exec(schema,
                    "INSERT INTO events VALUES (2, 'bad', 's', 0, 't', 1, now(), '{}', "
                    "'{}'); UPDATE event_position SET last = 2; "
                    "UPDATE event_durable_position SET last = 2");
      CHECK_THROWS_AS(store.read_all(0, 10), corrupt_event);
    }

    SUBCASE("a hole in the positions") {
      store.append(write("s", 1, {event("e2"), event("e3")}));
      postgres_exec(schema, "DELETE FROM events WHERE global_position = 2");
      try {
        store.read_all(0, 10);
        FAIL("read_all skipped a missing position");
      } catch (const corrupt_event& e) {
        CHECK(std::string(e.what()).find("position 2 is missing") != std::string::npos);
      }
      CHECK_THROWS_AS(store.read_stream("s"), corrupt_event);
      CHECK(store.read_all(2, 10).size() == 1);
    }

    SUBCASE("a subscription stops with the error instead of skipping") {
      postgres_exec(schema,
                    "INSERT INTO events VALUES (2, 'bad', 's', 2, NULL, 1, now(), '{}', "
                    "'{}'); UPDATE event_position SET last = 2; "
                    "UPDATE event_durable_position SET last = 2");
      std::mutex mutex;  // guards seen and failure
      std::condition_variable cv;
      std::vector<std::int64_t> seen;
      std::string failure;
      auto subscription = store.subscribe_all(
          0,
          [&](const recorded_event& e) {
            std::lock_guard lock(mutex);
            seen.push_back(e.global_position);
          },
          [&](std::exception_ptr error) {
            std::lock_guard lock(mutex);
            try {
              std::rethrow_exception(error);
            } catch (const corrupt_event& e) {
              failure = e.what();
            } catch (const std::exception& e) {
              failure = std::string("not corrupt_event: ") + e.what();
            }
            cv.notify_all();
          });
      REQUIRE(wait_until(mutex, cv, [&] { return !failure.empty(); }));
      subscription.reset();
      CHECK(failure.find("position 2") != std::string::npos);
      CHECK(seen.empty());  // read in one batch: nothing before the corrupt row is handed over
    }
  }

  TEST_CASE("a wrong expected version is detected across processes") {
    auto options = fresh_postgres_options();
    postgres_event_store store(options);
    const auto url = postgres_test_url();

    CHECK(run_writer({"append", url, options.schema, "deal-x", "0", "3", "child"}) == "ok 3 3\n");
    try {
      store.append(write("deal-x", kNoStream, {event("parent-1")}));
      FAIL("the parent's stale append was accepted");
    } catch (const wrong_expected_version& e) {
      CHECK(e.actual() == 3);
    }
    CHECK(store.append(write("deal-x", 3, {event("parent-1")})).streams[0].version == 4);
    CHECK(run_writer({"append", url, options.schema, "deal-x", "3", "1", "late"}) ==
          "conflict 4\n");
    // The child's first append re-sent with the same event ids is recognised as a retry.
    CHECK(run_writer({"append", url, options.schema, "deal-x", "0", "3", "child"}) == "ok 3 3\n");
    CHECK(store.head_position() == 4);
    CHECK(store.read_stream("deal-x").size() == 4);
  }

  TEST_CASE("wait_for_append wakes on another process's append through LISTEN") {
    auto options = fresh_postgres_options();
    options.poll_interval = 1h;  // so that only a notification can end the wait early
    postgres_event_store store(options);
    const auto url = postgres_test_url();

    for (int round = 1; round <= 2; ++round) {
      CAPTURE(round);
      const auto head = store.head_position();
      std::atomic<bool> woke{false};
      std::thread waiter([&] {
        store.wait_for_append(head, 60s);
        woke = true;
      });
      const auto started = std::chrono::steady_clock::now();
      run_writer({"append", url, options.schema, "s", "any", "1", "r" + std::to_string(round)});
      waiter.join();
      CHECK(woke);
      CHECK(std::chrono::steady_clock::now() - started < 30s);
      CHECK(store.head_position() == head + 1);
    }
  }

  TEST_CASE("a transaction held open blocks other appenders and readers see none of it") {
    auto options = fresh_postgres_options();
    commit_gate gate;
    options.before_commit = [&](const pending_commit& c) { gate(c); };
    postgres_event_store held(options);
    auto other_options = options;
    other_options.before_commit = nullptr;
    other_options.drop_schema_on_close = false;
    const std::string other_name = "rk_other_" + options.schema.substr(8);
    other_options.url = url_named(other_name);
    postgres_event_store other(other_options);

    // A blocked append of `other` shows up as its writer session waiting on a lock.
    const auto other_blocked = [&] {
      return eventually([&] { return session_count(other_name, "wait_event_type = 'Lock'") == 1; });
    };

    SUBCASE("rolled back: nothing is seen and its positions are reused, so no hole") {
      gate.hold(1);
      std::string held_error;
      std::thread first([&] {
        try {
          held.append(write("a", kNoStream, {event("a1"), event("a2")}));
        } catch (const store_unavailable& e) {
          held_error = e.what();
        }
      });
      REQUIRE(gate.wait_entered(1));
      CHECK(gate.entered()[0].first_position == 1);
      CHECK(gate.entered()[0].last_position == 2);
      CHECK(other.head_position() == 0);
      CHECK(other.read_all(0, 10).empty());

      std::optional<append_result> second;
      std::thread waiting([&] { second = other.append(write("b", kNoStream, {event("b1")})); });
      CHECK(other_blocked());
      gate.release(/*rollback=*/true);
      first.join();
      waiting.join();
      CHECK(held_error.find("rolled back by the test") != std::string::npos);
      REQUIRE(second);
      CHECK(second->position == 1);
      const auto all = other.read_all(0, 10);
      REQUIRE(all.size() == 1);
      CHECK(all[0].event_id == "b1");
      CHECK(other.stream_version("a") == 0);
      // The rolled-back ids are free again.
      CHECK(held.append(write("a", kNoStream, {event("a1"), event("a2")})).position == 3);
    }

    SUBCASE("committed: the later appender gets the next positions after it") {
      gate.hold(1);
      std::optional<append_result> first;
      std::thread holder([&] { first = held.append(write("a", kNoStream, {event("a1")})); });
      REQUIRE(gate.wait_entered(1));
      std::optional<append_result> second;
      std::thread waiting([&] { second = other.append(write("a", std::nullopt, {event("b1")})); });
      CHECK(other_blocked());
      CHECK(other.read_all(0, 10).empty());
      gate.release(/*rollback=*/false);
      holder.join();
      waiting.join();
      REQUIRE(first);
      REQUIRE(second);
      CHECK(first->position == 1);
      CHECK(second->position == 2);
      CHECK(second->streams[0].version == 2);
      const auto all = other.read_all(0, 10);
      REQUIRE(all.size() == 2);
      CHECK(all[0].event_id == "a1");
      CHECK(all[1].event_id == "b1");
    }
  }

  TEST_CASE("a writer deciding on what it committed last notices every append made since") {
    auto options = fresh_postgres_options();
    postgres_event_store a(options);
    auto other = options;
    other.drop_schema_on_close = false;
    postgres_event_store b(other);

    CHECK(a.append(write("s", kNoStream, {event("a1")})).position == 1);
    CHECK(b.append(write("s", 1, {event("b1")})).position == 2);
    // a still takes s to be at version 1 and the head at 1.
    try {
      a.append(write("s", 1, {event("a2")}));
      FAIL("a stale expected version was accepted");
    } catch (const wrong_expected_version& e) {
      CHECK(e.actual() == 2);
    }
    CHECK(a.append(write("s", 2, {event("a2")})).streams[0].version == 3);
    const auto any = b.append(write("s", std::nullopt, {event("b2")}));
    CHECK(any.streams[0].version == 4);
    CHECK(any.position == 4);

    // A stream that b created is not new to a.
    b.append(write("u", kNoStream, {event("b3")}));
    CHECK_THROWS_AS(a.append(write("u", kNoStream, {event("a3")})), wrong_expected_version);

    // A retry answers the original result, though a's own cache says the stream moved on.
    const auto first = a.append(write("t", kNoStream, {event("a4"), event("a5")}));
    const auto retry = a.append(write("t", kNoStream, {event("a4"), event("a5")}));
    CHECK(retry.replayed);
    CHECK(retry.position == first.position);

    const auto all = a.read_all(0, 100);
    REQUIRE(all.size() == 7);
    for (std::size_t i = 0; i < all.size(); ++i) {
      CHECK(all[i].global_position == static_cast<std::int64_t>(i) + 1);
    }
    CHECK(a.stream_version("s") == 4);
    CHECK(b.stream_version("t") == 2);
  }

  TEST_CASE("a committed append is answered and shown to log readers only once flushed") {
    auto options = fresh_postgres_options();
    std::mutex mutex;  // guards held, entered and verdict
    std::condition_variable cv;
    bool held = true;
    int entered = 0;
    bool fail = false;
    options.before_flush = [&] {
      std::unique_lock lock(mutex);
      ++entered;
      cv.notify_all();
      cv.wait(lock, [&] { return !held; });
      if (fail) throw std::runtime_error("the disk failed, says the test");
    };
    postgres_event_store store(options);
    const auto release = [&](bool failing) {
      std::lock_guard lock(mutex);
      held = false;
      fail = failing;
      cv.notify_all();
    };
    // The store's own flush on open ran before the hook was reached by any append.
    std::optional<append_result> result;
    std::string error;
    std::thread appender([&] {
      try {
        result = store.append(write("a", kNoStream, {event("a1")}));
      } catch (const store_unavailable& e) {
        error = e.what();
      }
    });
    REQUIRE(wait_until(mutex, cv, [&] { return entered == 1; }));

    // Committed: the command path sees it, so a decision builds on it ...
    CHECK(store.stream_version("a") == 1);
    CHECK(store.read_stream("a").size() == 1);
    // ... but no reader of the log does, and nobody has been answered.
    CHECK(store.read_all(0, 10).empty());
    CHECK(store.head_position() == 0);
    CHECK_FALSE(result);

    SUBCASE("flushed: answered, and the log shows it") {
      release(false);
      appender.join();
      REQUIRE(result);
      CHECK(result->position == 1);
      CHECK(store.head_position() == 1);
      CHECK(store.read_all(0, 10).size() == 1);
    }

    SUBCASE("a failed flush fails the append as retryable, and the next flush shows it") {
      release(true);
      appender.join();
      CHECK_FALSE(result);
      CHECK(error.find("flush is unconfirmed") != std::string::npos);
      CHECK(store.read_all(0, 10).empty());
      {
        std::lock_guard lock(mutex);
        fail = false;
      }
      // The retry with the same event ids finds the append and returns its original result.
      const auto retried = store.append(write("a", kNoStream, {event("a1")}));
      CHECK(retried.replayed);
      CHECK(retried.position == 1);
      CHECK(store.read_all(0, 10).size() == 1);
    }
  }

  TEST_CASE("appends batched into one transaction are decided one by one, and fail together") {
    auto options = fresh_postgres_options();
    commit_gate gate;
    options.before_commit = [&](const pending_commit& c) { gate(c); };
    postgres_event_store store(options);

    // Hold a first transaction so that the next appends queue up into one batch behind it.
    gate.hold(2);
    std::thread first([&] { store.append(write("first", kNoStream, {event("f1")})); });
    REQUIRE(gate.wait_entered(1));

    enum class result { pending, ok, replayed, wrong_version, invalid, unavailable, other };
    constexpr int kAppends = 5;
    std::vector<result> results(kAppends, result::pending);
    const std::vector<stream_write> writes{
        write("a", kNoStream, {event("a1")}),
        write("x", 5, {event("x1")}),                          // stale expected version
        write("c", std::nullopt, {event("f1"), event("c2")}),  // partly a stored event id
        write("d", kNoStream, {event("d1"), event("d2")}),
        write("first", kNoStream, {event("f1")}),  // a retry of the held append
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < kAppends; ++i) {
      threads.emplace_back([&, i] {
        auto& r = results[static_cast<std::size_t>(i)];
        try {
          r = store.append(writes[static_cast<std::size_t>(i)]).replayed ? result::replayed
                                                                         : result::ok;
        } catch (const wrong_expected_version&) {
          r = result::wrong_version;
        } catch (const invalid_append&) {
          r = result::invalid;
        } catch (const store_unavailable&) {
          r = result::unavailable;
        } catch (...) {
          r = result::other;
        }
      });
    }
    REQUIRE(eventually([&] { return store.queued_appends() == kAppends; }));
    gate.release(/*rollback=*/false);
    REQUIRE(gate.wait_entered(2));
    const auto batch = gate.entered()[1];

    SUBCASE("each append gets its own answer; only the accepted ones are written") {
      CHECK(batch.appends == 2);
      CHECK(batch.first_position == 2);
      CHECK(batch.last_position == 4);
      gate.release(/*rollback=*/false);
      first.join();
      for (auto& t : threads) t.join();
      CHECK(results == std::vector<result>{result::ok, result::wrong_version, result::invalid,
                                           result::ok, result::replayed});
      CHECK(store.head_position() == 4);
      CHECK(store.stream_version("d") == 2);
      CHECK(store.stream_version("c") == 0);
    }

    SUBCASE("a failed commit fails every append of the batch and writes nothing") {
      gate.release(/*rollback=*/true);
      first.join();
      for (auto& t : threads) t.join();
      CHECK(results == std::vector<result>{result::unavailable, result::unavailable,
                                           result::unavailable, result::unavailable,
                                           result::unavailable});
      CHECK(store.head_position() == 1);
      CHECK(store.stream_version("a") == 0);
      CHECK(store.stream_version("d") == 0);
      CHECK(store.read_all(0, 10).size() == 1);
    }
  }

  TEST_CASE("an append the server refuses fails alone; the rest of its batch commits") {
    auto options = fresh_postgres_options();
    commit_gate gate;
    options.before_commit = [&](const pending_commit& c) { gate(c); };
    postgres_event_store store(options);

    gate.hold(1);
    std::thread first([&] { store.append(write("first", kNoStream, {event("f1")})); });
    REQUIRE(gate.wait_entered(1));

    // Queue a batch behind the held transaction: good appends and one whose data nests deeper
    // than PostgreSQL's JSON parser allows (valid JSON, so it passes the store's own checks).
    constexpr int kGood = 4;
    const std::string deep =
        R"({"a":)" + std::string(200'000, '[') + std::string(200'000, ']') + "}";
    std::atomic<int> committed{0};
    std::string deep_error;
    std::vector<std::thread> threads;
    for (int i = 0; i < kGood; ++i) {
      threads.emplace_back([&, i] {
        store.append(
            write("good-" + std::to_string(i), kNoStream, {event("g" + std::to_string(i))}));
        ++committed;
      });
    }
    threads.emplace_back([&] {
      try {
        store.append(write("deep", kNoStream, {event("d1", deep)}));
      } catch (const invalid_append& e) {
        deep_error = e.field() + ": " + e.what();
      }
    });
    CHECK(eventually([&] { return store.queued_appends() == kGood + 1; }));
    gate.release(/*rollback=*/false);
    first.join();
    for (auto& t : threads) t.join();

    CHECK(committed == kGood);
    CHECK(deep_error.find("events: PostgreSQL refused the append") == 0);
    CHECK(store.stream_version("deep") == 0);
    CHECK(store.head_position() == 1 + kGood);
    const auto all = store.read_all(0, 100);
    CHECK(all.size() == static_cast<std::size_t>(1 + kGood));
  }

  TEST_CASE("connections the server drops are replaced") {
    auto options = fresh_postgres_options();
    const std::string name = "rk_drop_" + options.schema.substr(8);
    options.url = url_named(name);
    options.poll_interval = 1h;
    postgres_event_store store(options);
    store.append(write("s", kNoStream, {event("e1")}));
    CHECK(store.read_all(0, 10).size() == 1);
    REQUIRE(eventually([&] { return session_count(name) >= 3; }));  // writer, listener, reader

    postgres_exec("public",
                  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name "
                  "= '" +
                      name + "'");
    REQUIRE(eventually([&] { return session_count(name) == 0; }));

    // At most the first use of each dead connection fails, as retryable.
    const auto with_retry = [](auto operation) {
      try {
        return operation();
      } catch (const store_unavailable&) {
        return operation();
      }
    };
    CHECK(with_retry([&] { return store.append(write("s", 1, {event("e2")})); }).position == 2);
    CHECK(with_retry([&] { return store.read_all(0, 10); }).size() == 2);

    // The listener reconnects by itself (its last statement reads the head after LISTEN), and
    // another process's append wakes a waiter again; polling is off, so only LISTEN can.
    REQUIRE(eventually([&] {
      return session_count(name, "query = 'SELECT last FROM event_durable_position'") == 1;
    }));
    run_writer({"append", postgres_test_url(), options.schema, "s", "any", "1", "child"});
    const auto started = std::chrono::steady_clock::now();
    store.wait_for_append(2, 60s);
    CHECK(std::chrono::steady_clock::now() - started < 30s);
    CHECK(store.head_position() == 3);
  }
}

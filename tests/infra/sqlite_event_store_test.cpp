// What the SQLite store promises beyond the contract: the file, its migrations, corrupt rows, and
// several stores or processes sharing one file.
#include "infra/sqlite/sqlite_event_store.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "infra/migrations.hpp"
#include "infra/sqlite/sqlite_connection.hpp"
#include "infra/sqlite/sqlite_wal_vfs.hpp"
#include "tests/infra/event_store_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace {

using namespace std::chrono_literals;
using realmkit::infra::append_result;
using realmkit::infra::corrupt_event;
using realmkit::infra::kNoStream;
using realmkit::infra::sqlite_event_store;
using realmkit::infra::sqlite_store_options;
using realmkit::infra::store_error;
using realmkit::infra::store_unavailable;
using realmkit::infra::wrong_expected_version;
using realmkit::infra::sqlite::connection;
using realmkit::testing::temp_dir;
using realmkit::testing::contract::event;
using realmkit::testing::contract::iota;
using realmkit::testing::contract::positions;
using realmkit::testing::contract::thrown;
using realmkit::testing::contract::write;

sqlite_store_options options_for(const std::filesystem::path& path) {
  sqlite_store_options options;
  options.path = path;
  return options;
}

// A connection of its own on the store's file, for what only raw SQL can do.
connection raw(const std::filesystem::path& path) {
  connection db(path, connection::mode::read_write);
  db.exec("PRAGMA busy_timeout = 10000");
  return db;
}

int known_schema_version() {
  return realmkit::infra::migrations_for(realmkit::infra::backend::sqlite).back().version;
}

// Appends at the stream's current version, retrying on a conflict, as a command handler does.
append_result append_optimistically(sqlite_event_store& store, const std::string& stream,
                                    const std::string& id) {
  for (;;) {
    try {
      return store.append(write(stream, store.stream_version(stream), {event(id)}));
    } catch (const wrong_expected_version&) {
    }
  }
}

// Every event of the file in order: positions 1..n, stream versions 1..k per stream, ids unique.
// Returns the number of events per stream.
std::map<std::string, std::int64_t> check_log_is_contiguous(sqlite_event_store& store,
                                                            std::int64_t expected_total) {
  const auto all = store.read_all(0, 1'000'000);
  CHECK(positions(all) == iota(1, expected_total));
  std::set<std::string> ids;
  std::map<std::string, std::int64_t> versions;
  for (const auto& e : all) {
    CHECK(ids.insert(e.event_id).second);
    CHECK(e.stream_version == ++versions[e.stream_id]);
  }
  for (const auto& [stream, version] : versions) CHECK(store.stream_version(stream) == version);
  return versions;
}

}  // namespace

TEST_CASE("opening creates the folder and a migrated database in WAL mode") {
  temp_dir dir;
  const auto path = dir.path() / "nested" / "deeper" / "events.db";
  {
    sqlite_event_store store(options_for(path));
    CHECK(std::filesystem::exists(path));
    CHECK(store.path() == path);
    CHECK(store.schema_version() == known_schema_version());
  }
  auto db = raw(path);
  CHECK(db.pragma_text("PRAGMA journal_mode") == "wal");
  CHECK(db.pragma_text("SELECT count(*) FROM schema_migrations") ==
        std::to_string(realmkit::infra::migrations_for(realmkit::infra::backend::sqlite).size()));
  CHECK(db.pragma_text("SELECT name FROM schema_migrations WHERE version = 1") == "0001_events");
  CHECK(db.pragma_text("SELECT applied_at > 0 FROM schema_migrations WHERE version = 1") == "1");
}

TEST_CASE("reopening keeps the data and continues the positions") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  {
    sqlite_event_store store(options_for(path));
    store.append(write("s", kNoStream, {event("e1"), event("e2")}),
                 realmkit::infra::idempotency_key{"u", "k", "f"});
  }
  sqlite_event_store store(options_for(path));
  CHECK(store.head_position() == 2);
  CHECK(store.stream_version("s") == 2);
  const auto events = store.read_stream("s");
  REQUIRE(events.size() == 2);
  CHECK(events[1].event_id == "e2");
  CHECK(store.find_idempotent({"u", "k", "f"}).has_value());
  const auto next = store.append(write("s", 2, {event("e3")}));
  CHECK(next.position == 3);
  CHECK(next.streams[0].version == 3);
  // Event-id retries are recognised across restarts too.
  CHECK(store.append(write("s", kNoStream, {event("e1"), event("e2")})).replayed);
}

TEST_CASE("migrations are applied once") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  const auto count = realmkit::infra::migrations_for(realmkit::infra::backend::sqlite).size();

  SUBCASE("on open, then migrate() finds nothing to do") {
    sqlite_event_store store(options_for(path));
    CHECK(store.migrate() == 0);
    CHECK(store.migrate() == 0);
    sqlite_event_store second(options_for(path));  // migrates on open again: a no-op
    CHECK(second.schema_version() == known_schema_version());
    CHECK(raw(path).pragma_text("SELECT count(*) FROM schema_migrations") == std::to_string(count));
  }

  SUBCASE("without migrate_on_open, migrate() applies them") {
    auto options = options_for(path);
    options.migrate_on_open = false;
    sqlite_event_store store(options);
    CHECK(store.schema_version() == 0);
    CHECK(static_cast<std::size_t>(store.migrate()) == count);
    CHECK(store.schema_version() == known_schema_version());
    CHECK(store.append(write("s", kNoStream, {event("e1")})).position == 1);
  }
}

TEST_CASE("a database from a newer binary is refused") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  { sqlite_event_store store(options_for(path)); }
  raw(path).exec(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 1)");

  for (bool migrate_on_open : {true, false}) {
    CAPTURE(migrate_on_open);
    auto options = options_for(path);
    options.migrate_on_open = migrate_on_open;
    auto refused = thrown<store_error>([&] { sqlite_event_store store(options); });
    REQUIRE(refused);
    CHECK(std::string(refused->what()).find("newer") != std::string::npos);
    CHECK(std::string(refused->what()).find("9999") != std::string::npos);
  }
  // Nothing was changed: the future migration is still recorded and ours not re-applied.
  CHECK(raw(path).pragma_text("SELECT max(version) FROM schema_migrations") == "9999");
}

TEST_CASE("a database with a different migration history is refused") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  { sqlite_event_store store(options_for(path)); }
  raw(path).exec("UPDATE schema_migrations SET name = '0001_something_else' WHERE version = 1");
  auto refused = thrown<store_error>([&] { sqlite_event_store store(options_for(path)); });
  REQUIRE(refused);
  CHECK(std::string(refused->what()).find("0001_something_else") != std::string::npos);
}

TEST_CASE("a corrupt row is reported with its position, never skipped") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  sqlite_event_store store(options_for(path));
  store.append(write("s", kNoStream, {event("e1"), event("e2")}));

  struct corruption {
    const char* name;
    const char* values;  // for (global_position, event_id, stream_id, stream_version, type,
                         // schema_version, recorded_at, data, metadata)
    const char* column;
  };
  const corruption cases[] = {
      {"data not JSON", "3, 'e3', 's', 3, 't.v1', 1, 5, 'not json', '{}'", "data"},
      {"data a JSON array", "3, 'e3', 's', 3, 't.v1', 1, 5, '[1]', '{}'", "data"},
      {"data with trailing garbage", "3, 'e3', 's', 3, 't.v1', 1, 5, '{} x', '{}'", "data"},
      {"metadata truncated", "3, 'e3', 's', 3, 't.v1', 1, 5, '{}', '{\"a\":'", "metadata"},
      {"stream_version not a number", "3, 'e3', 's', 'three', 't.v1', 1, 5, '{}', '{}'",
       "stream_version"},
      {"event_id a blob", "3, x'00ff', 's', 3, 't.v1', 1, 5, '{}', '{}'", "event_id"},
      {"recorded_at text", "3, 'e3', 's', 3, 't.v1', 1, 'yesterday', '{}', '{}'", "recorded_at"},
      {"schema_version zero", "3, 'e3', 's', 3, 't.v1', 0, 5, '{}', '{}'", "schema_version"},
      {"type a blob", "3, 'e3', 's', 3, x'01', 1, 5, '{}', '{}'", "type"},
  };
  for (const auto& c : cases) {
    INFO("corruption: " << std::string(c.name));
    auto db = raw(path);
    db.exec(std::string("INSERT INTO events (global_position, event_id, stream_id, "
                        "stream_version, type, schema_version, recorded_at, data, metadata) "
                        "VALUES (") +
            c.values + ")");

    // Reads hand back the events before the corrupt row, then stop at it.
    CHECK(positions(store.read_all(0, 10)) == iota(1, 2));
    auto at_row = thrown<corrupt_event>([&] { (void)store.read_all(2, 10); });
    REQUIRE(at_row);
    CHECK(std::string(at_row->what()).find("global position 3") != std::string::npos);
    CHECK(std::string(at_row->what()).find(c.column) != std::string::npos);
    CHECK(store.read_stream("s").size() == 2);
    CHECK(thrown<corrupt_event>([&] { (void)store.read_stream("s", 3); }));

    // A subscription stops at it and says why.
    realmkit::testing::contract::event_sink sink;
    {
      auto subscription = store.subscribe_all(
          0, [&](const realmkit::infra::recorded_event& e) { sink.add(e); },
          [&](std::exception_ptr error) { sink.fail(error); });
      CHECK_FALSE(sink.wait_for(3, 10s));
    }
    CHECK(sink.positions() == iota(1, 2));
    CHECK(sink.failure().find("global position 3") != std::string::npos);

    db.exec("DELETE FROM events WHERE global_position = 3");
  }
}

TEST_CASE("a corrupt idempotency record is an error, not an answer") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  sqlite_event_store store(options_for(path));
  const realmkit::infra::idempotency_key key{"u", "k", "f"};
  store.append(write("s", kNoStream, {event("e1")}), key);
  raw(path).exec("UPDATE idempotency_keys SET result = '{\"streams\":7}'");
  CHECK_THROWS_AS((void)store.find_idempotent(key), store_error);
  CHECK_THROWS_AS(store.append(write("s", std::nullopt, {event("e2")}), key), store_error);
  CHECK(store.head_position() == 1);
}

TEST_CASE("a database locked by another writer makes appends unavailable, writing nothing") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  auto options = options_for(path);
  options.busy_timeout = 50ms;
  sqlite_event_store store(options);
  store.append(write("s", kNoStream, {event("e1")}));

  auto locker = raw(path);
  locker.exec("PRAGMA busy_timeout = 0");
  {
    realmkit::infra::sqlite::transaction lock(locker, "BEGIN IMMEDIATE");
    CHECK_THROWS_AS(store.append(write("s", 1, {event("e2")})), store_unavailable);
    CHECK(store.stats().failed_batches == 1);
    // Reads go on while another connection writes (WAL).
    CHECK(store.head_position() == 1);
  }
  CHECK(store.head_position() == 1);
  CHECK(store.append(write("s", 1, {event("e2")})).position == 2);
}

TEST_CASE("two stores on one file keep one contiguous log") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  sqlite_event_store first(options_for(path));
  sqlite_event_store second(options_for(path));

  SUBCASE("interleaving appends from many threads") {
    constexpr int kThreads = 6;
    constexpr int kAppends = 40;
    realmkit::testing::contract::thread_errors errors;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto& store = t % 2 == 0 ? first : second;
        try {
          for (int i = 0; i < kAppends; ++i) {
            append_optimistically(store, "shared-" + std::to_string(i % 3),
                                  "t" + std::to_string(t) + "-" + std::to_string(i));
          }
        } catch (const std::exception& e) {
          errors.add(e.what());
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(errors.take().empty());
    check_log_is_contiguous(first, kThreads * kAppends);
    CHECK(second.head_position() == kThreads * kAppends);
  }

  SUBCASE("a conflict is seen across stores") {
    first.append(write("s", kNoStream, {event("e1")}));
    auto conflict = thrown<wrong_expected_version>(
        [&] { second.append(write("s", kNoStream, {event("e2")})); });
    REQUIRE(conflict);
    CHECK(conflict->actual() == 1);
    CHECK(second.append(write("s", kNoStream, {event("e1")})).replayed);
  }

  SUBCASE("wait_for_append notices the other store's append by polling") {
    first.append(write("s", kNoStream, {event("e1")}));
    std::atomic<bool> seen{false};
    std::thread waiter([&] {
      first.wait_for_append(1, 20s);
      seen = first.head_position() == 2;
    });
    const auto start = std::chrono::steady_clock::now();
    second.append(write("s", 1, {event("e2")}));
    waiter.join();
    CHECK(seen);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
  }
}

TEST_CASE("two processes appending to one file keep one contiguous log") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  constexpr int kAppends = 120;

  // Both processes create and migrate the file at the same time, the child says it is ready, then
  // both append at once.
  int ready[2];
  int go[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(go) == 0);
  // Forked before this process opens a store, so the child inherits no threads or connections.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 0;
    try {
      ::close(ready[0]);
      ::close(go[1]);
      sqlite_event_store own(options_for(path));
      char byte = 'r';
      if (::write(ready[1], &byte, 1) != 1 || ::read(go[0], &byte, 1) != 1) ::_exit(3);
      for (int i = 0; i < kAppends; ++i) {
        append_optimistically(own, i % 2 == 0 ? "shared" : "child", "child-" + std::to_string(i));
      }
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }

  ::close(ready[1]);
  ::close(go[0]);
  sqlite_event_store store(options_for(path));
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  REQUIRE(::write(go[1], "x", 1) == 1);
  ::close(ready[0]);
  ::close(go[1]);
  for (int i = 0; i < kAppends; ++i) {
    append_optimistically(store, i % 2 == 0 ? "shared" : "parent", "parent-" + std::to_string(i));
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  const auto versions = check_log_is_contiguous(store, 2 * kAppends);
  CHECK(versions.at("shared") == kAppends);
  CHECK(versions.at("child") == kAppends / 2);
  CHECK(versions.at("parent") == kAppends / 2);
  // How much the two processes interleaved (informational: the scheduler decides).
  const auto all = store.read_all(0, 1'000'000);
  int switches = 0;
  for (std::size_t i = 1; i < all.size(); ++i) {
    switches += all[i].event_id.substr(0, 5) != all[i - 1].event_id.substr(0, 5);
  }
  MESSAGE("process switches in the log: " << switches);
}

TEST_CASE("relaxed durability is an explicit option and still stores every append") {
  temp_dir dir;
  auto options = options_for(dir.path() / "events.db");
  options.durability = realmkit::infra::sqlite_durability::relaxed;
  {
    sqlite_event_store store(options);
    store.append(write("s", kNoStream, {event("e1")}));
  }
  sqlite_event_store store(options_for(dir.path() / "events.db"));
  CHECK(store.head_position() == 1);
}

TEST_CASE("the store's clock stamps recorded_at") {
  temp_dir dir;
  auto options = options_for(dir.path() / "events.db");
  const realmkit::infra::timestamp fixed{std::chrono::microseconds{1'700'000'000'123'456}};
  options.clock = [&] { return fixed; };
  sqlite_event_store store(options);
  store.append(write("s", kNoStream, {event("e1")}));
  CHECK(store.read_all(0, 1).at(0).recorded_at == fixed);
}

TEST_CASE("a committed append is answered and shown to log readers only once fsynced") {
  temp_dir dir;
  auto options = options_for(dir.path() / "events.db");
  std::mutex mutex;  // guards held, entered and fail
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
  sqlite_event_store store(options);
  const auto syncs_before = realmkit::infra::sqlite::deferred_wal_syncs();
  std::optional<append_result> result;
  std::string error;
  std::thread appender([&] {
    try {
      result = store.append(write("a", kNoStream, {event("a1")}));
    } catch (const store_unavailable& e) {
      error = e.what();
    }
  });
  {
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, 30s, [&] { return entered == 1; }));
  }
  // Committed without its fsync: the command path sees it, readers of the log do not.
  CHECK(realmkit::infra::sqlite::deferred_wal_syncs() > syncs_before);
  CHECK(store.stream_version("a") == 1);
  CHECK(store.read_stream("a").size() == 1);
  CHECK(store.read_all(0, 10).empty());
  CHECK(store.head_position() == 0);
  CHECK_FALSE(result);

  SUBCASE("fsynced: answered, and the log shows it") {
    {
      std::lock_guard lock(mutex);
      held = false;
    }
    cv.notify_all();
    appender.join();
    REQUIRE(result);
    CHECK(result->position == 1);
    CHECK(store.head_position() == 1);
    CHECK(store.read_all(0, 10).size() == 1);
  }

  SUBCASE("a failed fsync fails the append as retryable, and a retry returns the original") {
    {
      std::lock_guard lock(mutex);
      held = false;
      fail = true;
    }
    cv.notify_all();
    appender.join();
    CHECK_FALSE(result);
    CHECK(error.find("not known to be durable") != std::string::npos);
    {
      std::lock_guard lock(mutex);
      fail = false;
    }
    const auto retried = store.append(write("a", kNoStream, {event("a1")}));
    CHECK(retried.replayed);
    CHECK(retried.position == 1);
    CHECK(store.read_all(0, 10).size() == 1);
  }
}

TEST_CASE("another store on the file sees an acknowledged append at once") {
  temp_dir dir;
  const auto options = options_for(dir.path() / "events.db");
  sqlite_event_store writer(options);
  sqlite_event_store reader(options);
  for (int i = 1; i <= 20; ++i) {
    writer.append(write("s", std::nullopt, {event("e" + std::to_string(i))}));
    CHECK(reader.read_all(0, 100).size() == static_cast<std::size_t>(i));
    CHECK(reader.head_position() == i);
  }
}

TEST_CASE("the writer checkpoints, so the WAL stays bounded under a stream of commits") {
  temp_dir dir;
  const auto options = options_for(dir.path() / "events.db");
  sqlite_event_store store(options);
  // 32 MiB of events, twice the checkpoint threshold: without checkpoints the WAL holds it all.
  const std::string data = R"({"blob":")" + std::string(64 * 1024, 'x') + R"("})";
  for (int i = 0; i < 512; ++i) {
    store.append(write("s", std::nullopt, {event("e" + std::to_string(i), data)}));
  }
  auto wal = options.path;
  wal += "-wal";
  CHECK(std::filesystem::file_size(wal) < 24u * 1024 * 1024);
  CHECK(store.read_all(0, 1000).size() == 512);
}

TEST_CASE("large and many commits survive the writer's coalesced WAL writes intact") {
  temp_dir dir;
  const auto path = dir.path() / "events.db";
  // Events larger than the write buffer, and many small ones, in both durability modes.
  for (auto durability :
       {realmkit::infra::sqlite_durability::full, realmkit::infra::sqlite_durability::relaxed}) {
    CAPTURE(static_cast<int>(durability));
    std::filesystem::remove_all(dir.path() / "db");
    auto options = options_for(dir.path() / "db" / "events.db");
    options.durability = durability;
    std::vector<std::string> payloads;
    {
      sqlite_event_store writer(options);
      sqlite_event_store reader(options_for(options.path));
      std::vector<realmkit::infra::new_event> big;
      for (int i = 0; i < 5; ++i) {
        payloads.push_back(R"({"blob":")" + std::string(300'000 + i, static_cast<char>('a' + i)) +
                           R"("})");
        big.push_back(event("big-" + std::to_string(i), payloads.back()));
      }
      writer.append(write("big", kNoStream, big));
      for (int i = 0; i < 300; ++i) {
        payloads.push_back(R"({"i":)" + std::to_string(i) + "}");
        writer.append(write("small-" + std::to_string(i % 17), std::nullopt,
                            {event("small-" + std::to_string(i), payloads.back())}));
        // Another connection sees each commit complete as soon as append() returns.
        REQUIRE(reader.head_position() == 6 + i);
      }
      const auto all = reader.read_all(0, 1000);
      REQUIRE(all.size() == payloads.size());
      for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].data == payloads[i]);
    }
    CHECK(raw(options.path).pragma_text("PRAGMA integrity_check") == "ok");
    sqlite_event_store reopened(options);
    const auto all = reopened.read_all(0, 1000);
    REQUIRE(all.size() == payloads.size());
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].data == payloads[i]);
  }
}

TEST_CASE("stats count commits, appends and events") {
  temp_dir dir;
  sqlite_event_store store(options_for(dir.path() / "events.db"));
  CHECK(store.stats().commits == 0);
  store.append(write("s", kNoStream, {event("e1"), event("e2")}));
  CHECK_THROWS_AS(store.append(write("s", kNoStream, {event("e3")})), wrong_expected_version);

  constexpr int kThreads = 16;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      store.append(write("t" + std::to_string(t), kNoStream, {event("t" + std::to_string(t))}));
    });
  }
  for (auto& th : threads) th.join();

  const auto stats = store.stats();
  CHECK(stats.appends == 2 + kThreads);
  CHECK(stats.events == 2 + kThreads);
  CHECK(stats.commits >= 3);
  CHECK(stats.commits <= 2 + kThreads);
  CHECK(stats.failed_batches == 0);
  MESSAGE("appends per commit with "
          << kThreads << " threads: " << double(kThreads) / double(stats.commits - 2));
}

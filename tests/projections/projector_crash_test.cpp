// Exactly-once effect across crashes: a projector process is killed with SIGKILL again and again
// while it catches up with a long log; whatever it committed, the read models it leaves equal a
// from-scratch rebuild, row for row.
#include <doctest/doctest.h>
#include <signal.h>

#include <map>
#include <random>
#include <thread>

#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "projections/catalog.hpp"
#include "projections/registry.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/projections/counting_projection.hpp"
#include "tests/projections/projection_env.hpp"
#include "tests/projections/table_digest.hpp"
#include "tests/support/crm_history.hpp"

namespace realmkit::testing {
namespace {

// Appends `count` test events in appends of 1,000 over 50 streams.
void fill(infra::event_store& store, int count) {
  int written = 0;
  while (written < count) {
    std::vector<infra::stream_write> writes;
    for (int s = 0; s < 50 && written < count; ++s) {
      infra::stream_write w{"thing-" + std::to_string(s), std::nullopt, {}};
      for (int i = 0; i < 20 && written < count; ++i, ++written) {
        w.events.push_back(
            {infra::new_uuid_v7(), "test.happened.v1", 1, R"({"n":1})", R"({"actor":"user-1"})"});
      }
      writes.push_back(std::move(w));
    }
    store.append(writes, std::nullopt);
  }
}

struct crash_target {
  std::string spec;  // the tool's STORE argument
  std::unique_ptr<infra::event_store> store;
  std::unique_ptr<infra::sql::database> db;
};

void kill_repeatedly(const crash_target& target, const std::string& set, int kills) {
  std::mt19937 random(20261127);
  std::uniform_int_distribution<int> delay_ms(150, 700);
  for (int i = 0; i < kills; ++i) {
    writer_process tool(REALMKIT_PROJECTOR_TOOL, {"follow", target.spec, set});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ::kill(tool.pid(), SIGKILL);
    REQUIRE(tool.wait(10s).has_value());
  }
  writer_process last(REALMKIT_PROJECTOR_TOOL, {"catch-up", target.spec, set});
  const auto code = last.wait(450s);
  REQUIRE(code.has_value());
  REQUIRE(*code == 0);
}

void check_equals_rebuild(const crash_target& target,
                          std::vector<std::shared_ptr<const projections::projection>> set) {
  std::map<std::string, std::string> before;
  {
    auto session = target.db->acquire();
    for (const auto& p : set) {
      for (const auto& r : p->relations()) before[r] = table_digest(*session, r);
    }
  }
  projections::projector_options options;
  options.idle_wait = 20ms;
  projections::projector p(*target.store, *target.db, set, options);
  p.start();
  REQUIRE(p.wait_for(target.store->head_position(), 60s));
  // Every projection rebuilds at once, as `realmkit rebuild all` does.
  std::map<std::string, std::int64_t> from;
  for (const auto& name : p.names()) {
    from[name] = p.status(name)->generation;
    CHECK(p.rebuild(name) > from[name]);
  }
  // The rebuilds run side by side: under the sanitizers on a 2-core machine that also runs a
  // cluster test, the slowest takes minutes (355–539 s for the whole case in CI).
  for (const auto& name : p.names()) {
    INFO("projection " << name);
    REQUIRE(p.wait_for_rebuild(name, 420s));
    CHECK(p.status(name)->generation > from[name]);
  }
  auto session = target.db->acquire();
  for (const auto& [relation, digest] : before) {
    INFO("relation " << relation);
    CHECK(table_digest(*session, relation) == digest);
  }
}

crash_target sqlite_target(const temp_dir& dir) {
  crash_target target;
  const auto path = dir.path() / "realmkit.db";
  target.spec = "sqlite:" + path.string();
  infra::sqlite_store_options options;
  options.path = path;
  target.store = std::make_unique<infra::sqlite_event_store>(options);
  infra::sql::sqlite_options db;
  db.path = path;
  target.db = infra::sql::open_sqlite_database(db);
  return target;
}

crash_target postgres_target() {
  crash_target target;
  auto options = fresh_postgres_options();
  target.spec = "postgres:" + options.url + "|" + options.schema;
  target.store = std::make_unique<infra::postgres_event_store>(options);
  infra::sql::postgres_options db;
  db.url = options.url;
  db.schema = options.schema;
  target.db = infra::sql::open_postgres_database(db);
  return target;
}

}  // namespace

TEST_CASE(
    "projector crash: SIGKILL during a 100k-event catch-up on SQLite leaves what a rebuild "
    "produces") {
  temp_dir dir;
  auto target = sqlite_target(dir);
  fill(*target.store, 100'000);
  kill_repeatedly(target, "counting", 6);
  check_equals_rebuild(target, {std::make_shared<counting_projection>()});
}

TEST_CASE(
    "projector crash: SIGKILL during a 100k-event catch-up on PostgreSQL leaves what a "
    "rebuild produces") {
  auto target = postgres_target();
  fill(*target.store, 100'000);
  kill_repeatedly(target, "counting", 6);
  check_equals_rebuild(target, {std::make_shared<counting_projection>()});
  target.db.reset();
}

// The same with every read model the server runs, over a generated CRM history.
TEST_CASE(
    "projector crash: every read model survives SIGKILL during a 100k-event CRM catch-up "
    "on SQLite") {
  temp_dir dir;
  auto target = sqlite_target(dir);
  crm_history history;
  history.append_to(*target.store, 100'000);
  kill_repeatedly(target, "all", 5);
  check_equals_rebuild(target, projections::all_projections());
}

TEST_CASE(
    "projector crash: every read model survives SIGKILL during a 100k-event CRM catch-up "
    "on PostgreSQL") {
  auto target = postgres_target();
  crm_history history;
  history.append_to(*target.store, 100'000);
  kill_repeatedly(target, "all", 5);
  check_equals_rebuild(target, projections::all_projections());
  target.db.reset();
}

}  // namespace realmkit::testing

// The projector runtime on every backend: catch up then follow, resume from the checkpoint,
// exactly-once effect with concurrent projectors, loud stops, retried outages, and rebuilds beside
// the live generation while writes continue.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "projections/catalog.hpp"
#include "tests/projections/counting_projection.hpp"
#include "tests/projections/projection_env.hpp"

namespace realmkit::testing {
namespace {

using projections::projection_state;

infra::new_event test_event(std::string type = "test.happened.v1") {
  return infra::new_event{infra::new_uuid_v7(), std::move(type), 1, R"({"n":1})",
                          R"({"actor":"user-1"})"};
}

// Appends `count` events spread over `streams` streams; returns the last position.
std::int64_t append_events(infra::event_store& store, int count, int streams = 7,
                           const std::string& prefix = "thing-") {
  std::int64_t last = 0;
  for (int i = 0; i < count; ++i) {
    infra::stream_write w{prefix + std::to_string(i % streams), std::nullopt, {test_event()}};
    last = store.append(w).position;
  }
  return last;
}

// Per stream: events and position sum, read from the stable view.
template <class Env>
std::map<std::string, std::pair<std::int64_t, std::int64_t>> counts(Env& env,
                                                                    const std::string& view) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& r : env.query("SELECT stream_id, events, position_sum FROM " + view)) {
    out[r.text(0)] = {r.integer(1), r.integer(2)};
  }
  return out;
}

// What a correct projection of the whole log holds.
std::map<std::string, std::pair<std::int64_t, std::int64_t>> expected_counts(
    infra::event_store& store) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
  std::int64_t after = 0;
  for (;;) {
    const auto batch = store.read_all(after, 10'000);
    if (batch.empty()) break;
    for (const auto& e : batch) {
      auto& c = out[e.stream_id];
      c.first += 1;
      c.second += e.global_position;
      after = e.global_position;
    }
  }
  return out;
}

template <class Env>
std::optional<projections::generation_row> live_row(Env& env, const std::string& name) {
  auto session = env.db().acquire();
  return projections::live_generation(*session, name);
}

}  // namespace

TEST_CASE_TEMPLATE("projector: catches up, follows the log, and records its checkpoint", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  append_events(env.store(), 40);
  auto counting = std::make_shared<counting_projection>();
  auto p = env.start({counting});
  env.catch_up(*p);
  CHECK(counts(env, counting->relation()) == expected_counts(env.store()));

  append_events(env.store(), 25);
  env.catch_up(*p);
  CHECK(counts(env, counting->relation()) == expected_counts(env.store()));
  const auto status = p->status("counting");
  REQUIRE(status);
  CHECK(status->state == projection_state::live);
  CHECK(status->checkpoint == env.store().head_position());
  CHECK(status->generation == 1);
  const auto row = live_row(env, "counting");
  REQUIRE(row);
  CHECK(row->position == env.store().head_position());
  CHECK(p->healthy());
}

TEST_CASE_TEMPLATE("projector: a restarted projector resumes from its checkpoint", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  counting_options options;
  auto counting = std::make_shared<counting_projection>(options);
  append_events(env.store(), 30);
  {
    auto p = env.start({counting});
    env.catch_up(*p);
  }
  const auto applied_before = options.applied->load();
  CHECK(applied_before == 30);
  append_events(env.store(), 12);
  auto p = env.start({counting});
  env.catch_up(*p);
  // Only the new events were applied: nothing twice, nothing skipped.
  CHECK(options.applied->load() == applied_before + 12);
  CHECK(counts(env, counting->relation()) == expected_counts(env.store()));
}

TEST_CASE_TEMPLATE("projector: an event it cannot apply stops it there, loudly", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  counting_options bad;
  bad.name = "fragile";
  bad.poison_type = "test.poison.v1";
  auto fragile = std::make_shared<counting_projection>(bad);
  auto sturdy = std::make_shared<counting_projection>();
  append_events(env.store(), 10);
  infra::stream_write poison{"thing-x", std::nullopt, {test_event("test.poison.v1")}};
  const auto poison_position = env.store().append(poison).position;
  append_events(env.store(), 5);

  infra::metrics_registry metrics;
  projections::projector_options options;
  options.metrics = &metrics;
  auto p = env.start({fragile, sturdy}, options);
  // The other projection is independent: it catches up.
  REQUIRE(p->wait_for(env.store().head_position(), 20s, std::vector<std::string>{"counting"}));
  // The fragile one stops before the batch holding the poison, and says why.
  CHECK_FALSE(p->wait_for(poison_position, 300ms, std::vector<std::string>{"fragile"}));
  const auto status = p->status("fragile");
  REQUIRE(status);
  CHECK(status->state == projection_state::failed);
  CHECK(status->checkpoint < poison_position);
  REQUIRE(status->error);
  CHECK(status->error->find("position " + std::to_string(poison_position)) != std::string::npos);
  CHECK(status->error->find("test.poison.v1") != std::string::npos);
  CHECK_FALSE(p->healthy());
  const auto exposed = metrics.expose();
  CHECK(exposed.find("realmkit_projection_failed{projection=\"fragile\"} 1") != std::string::npos);
  // Nothing of the failed batch was committed.
  const auto row = live_row(env, "fragile");
  REQUIRE(row);
  CHECK(row->position == status->checkpoint);
  std::int64_t committed = 0;
  for (const auto& [stream, c] : counts(env, fragile->relation())) committed += c.first;
  CHECK(committed == row->position);
}

TEST_CASE_TEMPLATE("projector: a failed commit is retried without applying anything twice", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  auto counting = std::make_shared<counting_projection>();
  append_events(env.store(), 20);
  std::atomic<int> failures{2};
  projections::projector_options options;
  options.before_commit = [&](std::string_view, std::int64_t, std::int64_t) {
    if (failures.fetch_sub(1) > 0) throw infra::sql::error("connection lost (test)", true);
  };
  auto p = env.start({counting}, options);
  env.catch_up(*p);
  CHECK(failures.load() < 0);
  CHECK(counts(env, counting->relation()) == expected_counts(env.store()));
  CHECK(p->healthy());
}

TEST_CASE_TEMPLATE("projector: two projectors of one projection never apply a batch twice", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  auto counting = std::make_shared<counting_projection>();
  projections::projector_options small;
  small.live_batch_events = 7;
  auto first = env.start({counting}, small);
  auto second = env.start({counting}, small);
  std::thread writer([&] { append_events(env.store(), 300, 11); });
  writer.join();
  env.catch_up(*first);
  env.catch_up(*second);
  // The applying writer's own check throws on a doubled event; the sums prove none was skipped.
  CHECK(first->healthy());
  CHECK(second->healthy());
  CHECK(counts(env, counting->relation()) == expected_counts(env.store()));
}

TEST_CASE_TEMPLATE("projector: a rebuild fills a new generation while the live one serves", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  auto counting = std::make_shared<counting_projection>();
  append_events(env.store(), 400, 13);
  projections::projector_options options;
  options.rebuild_batch_events = 50;  // many batches, so writes interleave with the rebuild
  auto p = env.start({counting}, options);
  env.catch_up(*p);

  std::atomic<bool> writing{true};
  std::thread writer([&] {
    while (writing.load()) append_events(env.store(), 5, 13);
  });
  // Readers keep reading the stable view throughout; totals never go backwards.
  std::atomic<bool> reading{true};
  std::atomic<int> reads{0};
  std::string read_error;
  std::thread reader([&] {
    std::int64_t last_total = 0;
    try {
      while (reading.load()) {
        std::int64_t total = 0;
        for (const auto& [stream, c] : counts(env, counting->relation())) total += c.first;
        if (total < last_total) {
          read_error =
              "total went back from " + std::to_string(last_total) + " to " + std::to_string(total);
          return;
        }
        last_total = total;
        ++reads;
      }
    } catch (const std::exception& e) {
      read_error = e.what();
    }
  });

  const auto generation = p->rebuild("counting");
  CHECK(generation == 2);
  REQUIRE(p->wait_for_rebuild("counting", 30s));
  writing = false;
  writer.join();
  env.catch_up(*p);
  reading = false;
  reader.join();
  CHECK(read_error == "");
  CHECK(reads.load() > 0);

  const auto status = p->status("counting");
  REQUIRE(status);
  CHECK(status->generation == 2);
  CHECK_FALSE(status->rebuild);
  CHECK(counts(env, counting->relation()) == expected_counts(env.store()));
  // The old generation is gone from the catalog and the database.
  auto session = env.db().acquire();
  const auto generations = projections::load_generations(*session, "counting");
  REQUIRE(generations.size() == 1);
  CHECK(generations[0].generation == 2);
  CHECK(generations[0].state == projections::generation_state::live);
  CHECK_THROWS_AS(session->query("SELECT COUNT(*) FROM " + counting->relation() + "_g1"),
                  infra::sql::error);
}

TEST_CASE_TEMPLATE("projector: a new projection version is rebuilt beside the old one", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  append_events(env.store(), 60);
  {
    auto p = env.start({std::make_shared<counting_projection>()});
    env.catch_up(*p);
  }
  counting_options v2;
  v2.version = 2;
  auto counting = std::make_shared<counting_projection>(v2);
  auto p = env.start({counting});
  REQUIRE(p->wait_for_rebuild("counting", 30s));
  append_events(env.store(), 3);
  env.catch_up(*p);
  const auto row = live_row(env, "counting");
  REQUIRE(row);
  CHECK(row->generation == 2);
  CHECK(row->version == 2);
  CHECK(counts(env, counting->relation()) == expected_counts(env.store()));
}

TEST_CASE_TEMPLATE("projector: unknown projection names are refused", Backend, sqlite_backend,
                   postgres_backend) {
  projection_env<Backend> env;
  auto p = env.start({std::make_shared<counting_projection>()});
  CHECK_THROWS_AS(p->rebuild("nope"), projections::unknown_projection);
  CHECK_THROWS_AS(p->position("nope"), projections::unknown_projection);
  CHECK_FALSE(p->status("nope"));
}

TEST_CASE_TEMPLATE("projector: an observer follows the checkpoints another projector commits",
                   Backend, sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  counting_options options;
  auto counting = std::make_shared<counting_projection>(options);
  projections::projector_options quick;
  quick.idle_wait = 50ms;
  // A process without the projector role: it must not apply anything itself.
  projections::projector observer(env.store(), env.db(), {counting}, quick);
  observer.observe();
  const auto first = append_events(env.store(), 20);
  CHECK_FALSE(observer.wait_for(first, 150ms));  // nobody projects yet
  CHECK(options.applied->load() == 0);

  auto applying = env.start({counting});
  CHECK(observer.wait_for(first, 10s));
  const auto last = append_events(env.store(), 15);
  CHECK(observer.wait_for(last, 10s));
  const auto status = observer.status("counting");
  REQUIRE(status);
  CHECK(status->checkpoint == last);
  CHECK(status->state == projection_state::live);
  CHECK(status->events_applied == 0);
  CHECK(observer.position("counting") == last);
  env.catch_up(*applying);
  CHECK(options.applied->load() == 35);  // the observer applied none of them
  observer.stop();
}

}  // namespace realmkit::testing

// Task reminders fire at their time, once, whatever restarts or how many schedulers run, and reach
// the assignee's room; with an injected clock, on both backends.
#include "app/reminder_scheduler.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "commands/crm_commands.hpp"
#include "infra/event_codec.hpp"
#include "projections/reminders/reminders_projection.hpp"
#include "projections/rooms/rooms_projection.hpp"
#include "tests/infra/store_backends.hpp"
#include "tests/projections/projection_env.hpp"

using namespace realmkit;
using namespace realmkit::domain;
using namespace std::chrono_literals;
using realmkit::testing::postgres_backend;
using realmkit::testing::projection_env;
using realmkit::testing::sqlite_backend;

namespace {

// A due time on a whole second, a little in the future of the real clock (the domain refuses
// nothing about it; the fixture's clock is what the scheduler sees).
const timestamp kDue = std::chrono::time_point_cast<std::chrono::seconds>(
    std::chrono::system_clock::now() + std::chrono::hours(24 * 30));

template <class Backend>
struct reminder_fixture {
  projection_env<Backend> env;
  commands::command_handler handler{env.store()};
  std::unique_ptr<projections::projector> projector =
      env.start({std::make_shared<projections::reminders::reminders_projection>(),
                 std::make_shared<projections::rooms_projection>()});
  std::atomic<std::int64_t> now_us{(kDue - std::chrono::hours(2)).time_since_epoch().count()};

  timestamp now() const { return timestamp{std::chrono::microseconds{now_us.load()}}; }
  void set_clock(timestamp t) { now_us = t.time_since_epoch().count(); }

  app::reminder_scheduler scheduler() {
    return app::reminder_scheduler(handler, env.db(), *projector,
                                   {.clock = [this] { return now(); }});
  }

  commands::command_metadata meta() const {
    commands::command_metadata m;
    m.actor = user_id{"manager"};
    m.now = now();
    m.correlation_id = infra::new_uuid_v7();
    return m;
  }

  void add_task(const std::string& id, timestamp due, std::optional<int> reminder) {
    std::vector<task_command> commands{create_task{task_id{id}, "Call back " + id, "",
                                                   user_id{"alice"}, due, std::nullopt,
                                                   task_priority::normal}};
    if (reminder) commands.push_back(set_task_reminder{task_id{id}, reminder});
    REQUIRE(commands::execute_all(handler, commands, meta()).ok());
    env.catch_up(*projector);
  }

  std::vector<task_reminded> reminders() {
    std::vector<task_reminded> out;
    for (const auto& e : env.store().read_all(0, 100'000)) {
      if (e.type != task_reminded::kType) continue;
      out.push_back(std::get<task_reminded>(infra::decode_event<task_event>(e)));
    }
    return out;
  }

  std::int64_t room_updates(const std::string& room, const std::string& kind) {
    env.catch_up(*projector);
    return env
        .query("SELECT COUNT(*) FROM rm_room_updates WHERE room = $1 AND kind = $2", {room, kind})
        .front()
        .integer(0);
  }
};

}  // namespace

TEST_CASE_TEMPLATE(
    "reminder scheduler: each reminder fires once, at its time, across restarts, "
    "into the assignee's room",
    B, sqlite_backend, postgres_backend) {
  reminder_fixture<B> f;
  f.add_task("t1", kDue, 30);
  f.add_task("done", kDue, 30);
  REQUIRE(commands::complete_task(f.handler, task_id{"done"}, f.meta()).ok());
  f.env.catch_up(*f.projector);

  {
    auto scheduler = f.scheduler();
    f.set_clock(kDue - 31min);
    CHECK(scheduler.run_once() == 0);  // not yet
    f.set_clock(kDue - 30min);
    CHECK(scheduler.run_once() == 1);
    CHECK(scheduler.run_once() == 0);  // never twice
  }
  auto fired = f.reminders();
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].task == task_id{"t1"});
  CHECK(fired[0].kind == reminder_kind::due_soon);
  CHECK(fired[0].at == kDue - 30min);
  CHECK(fired[0].assignee == user_id{"alice"});

  // A restarted scheduler owes nothing that was sent; the overdue reminder comes at the due time,
  // and a scheduler that was down then sends it when it starts again.
  {
    auto restarted = f.scheduler();
    CHECK(restarted.run_once() == 0);
    f.set_clock(kDue - 1s);
    CHECK(restarted.run_once() == 0);
  }
  f.set_clock(kDue + 2h);
  {
    auto after_downtime = f.scheduler();
    CHECK(after_downtime.run_once() == 1);
    CHECK(after_downtime.run_once() == 0);
  }
  fired = f.reminders();
  REQUIRE(fired.size() == 2);
  CHECK(fired[1].kind == reminder_kind::overdue);
  CHECK(fired[1].due_at == kDue);

  // A new due time owes new reminders; the completed task never reminded anyone.
  REQUIRE(commands::execute(f.handler, task_command{change_task_due{task_id{"t1"}, kDue + 24h}},
                            f.meta())
              .ok());
  f.env.catch_up(*f.projector);
  f.set_clock(kDue + 24h - 30min);
  CHECK(f.scheduler().run_once() == 1);
  fired = f.reminders();
  REQUIRE(fired.size() == 3);
  CHECK(fired[2].due_at == kDue + 24h);
  for (const auto& r : fired) CHECK(r.task == task_id{"t1"});

  CHECK(f.room_updates("user:alice", "task.reminded") == 3);
}

TEST_CASE_TEMPLATE("reminder scheduler: several schedulers at once fire each reminder once", B,
                   sqlite_backend, postgres_backend) {
  reminder_fixture<B> f;
  constexpr int kTasks = 20;
  for (int i = 0; i < kTasks; ++i) f.add_task("t" + std::to_string(i), kDue + 1min * i, 5);
  f.set_clock(kDue + 1h);  // every advance reminder came too late: each becomes the overdue one
  std::vector<std::size_t> counts(3);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    threads.emplace_back([&, i] {
      auto scheduler = f.scheduler();
      counts[i] = scheduler.run_once() + scheduler.run_once();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(counts[0] + counts[1] + counts[2] == kTasks);
  const auto fired = f.reminders();
  CHECK(fired.size() == kTasks);
  for (const auto& r : fired) CHECK(r.kind == reminder_kind::overdue);
  CHECK(f.scheduler().run_once() == 0);
}

TEST_CASE(
    "reminder scheduler: running on the real clock, a reminder fires when its time comes, "
    "not before") {
  projection_env<sqlite_backend> env;
  commands::command_handler handler{env.store()};
  auto projector = env.start({std::make_shared<projections::reminders::reminders_projection>()});
  app::reminder_scheduler scheduler(handler, env.db(), *projector, {.max_sleep = 200ms});
  scheduler.start();
  const auto due = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now() + 1500ms);
  commands::command_metadata meta;
  meta.actor = user_id{"alice"};
  meta.now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  REQUIRE(commands::execute(handler,
                            task_command{create_task{task_id{"soon"}, "Soon", "", user_id{"alice"},
                                                     due, std::nullopt, task_priority::normal}},
                            meta)
              .ok());
  std::optional<task_reminded> fired;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!fired && std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : env.store().read_all(0, 1000)) {
      if (e.type == task_reminded::kType) {
        fired = std::get<task_reminded>(infra::decode_event<task_event>(e));
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  scheduler.stop();
  REQUIRE(fired);
  CHECK(fired->kind == reminder_kind::overdue);
  CHECK(fired->at >= due);
}

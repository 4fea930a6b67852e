// Room updates on every backend: which rooms an event reaches, contiguous per-room sequences,
// publication only after commit, sequences that continue across restarts, and a rebuild that
// numbers every room as live projection did.
#include <doctest/doctest.h>

#include <mutex>

#include "domain/activity/activity_events.hpp"
#include "domain/contact/contact_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/task/task_events.hpp"
#include "domain/user/user_events.hpp"
#include "projections/rooms/rooms_projection.hpp"
#include "tests/projections/projection_env.hpp"
#include "tests/projections/table_digest.hpp"

namespace realmkit::testing {
namespace {

using namespace domain;

struct captured {
  std::mutex mutex;
  std::vector<infra::room_message> messages;

  std::vector<infra::room_message> in(const std::string& room) {
    std::lock_guard lock(mutex);
    std::vector<infra::room_message> out;
    for (const auto& m : messages) {
      if (m.room == room) out.push_back(m);
    }
    return out;
  }
};

struct row {
  std::string room;
  std::int64_t seq;
  std::int64_t position;
  std::string kind;
  bool operator==(const row&) const = default;
};

template <class Env>
std::vector<row> log_rows(Env& env, const std::string& room) {
  std::vector<row> out;
  for (const auto& r :
       env.query("SELECT room, seq, position, kind FROM rm_room_updates WHERE room = $1 ORDER BY "
                 "seq",
                 {room})) {
    out.push_back({r.text(0), r.integer(1), r.integer(2), r.text(3)});
  }
  return out;
}

timestamp at(int minute) {
  return timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 2}} +
         std::chrono::minutes{minute};
}

// A deal in pipeline p1 owned by ana, moved twice, handed to ben, with a task for ben on it and a
// call logged on its contact.
template <class Env>
void history(Env& env) {
  deal_created created;
  created.deal = deal_id{"d1"};
  created.pipeline = pipeline_id{"p1"};
  created.stage = stage_id{"s1"};
  created.title = "Big deal";
  created.value = money{100'00, "EUR"};
  created.owner = user_id{"ana"};
  created.at = at(0);
  env.append("deal-d1", created);
  env.append(
      "deal-d1",
      deal_stage_moved{deal_id{"d1"}, pipeline_id{"p1"}, stage_id{"s1"}, stage_id{"s2"}, at(5)},
      deal_stage_moved{deal_id{"d1"}, pipeline_id{"p1"}, stage_id{"s2"}, stage_id{"s3"}, at(9)});
  env.append("deal-d1", deal_owner_assigned{deal_id{"d1"}, user_id{"ana"}, user_id{"ben"}});
  task_created task;
  task.task = task_id{"t1"};
  task.title = "Call back";
  task.assignee = user_id{"ben"};
  task.link = entity_ref{entity_kind::deal, "d1"};
  env.append("task-t1", task);
  activity_logged call;
  call.activity = activity_id{"a1"};
  call.type = activity_type::call;
  call.subject = entity_ref{entity_kind::contact, "c1"};
  call.summary = "Intro call";
  call.occurred_at = at(20);
  call.owner = user_id{"ana"};
  env.append("activity-a1", call);
}

}  // namespace

TEST_CASE_TEMPLATE("rooms: every event reaches its rooms with contiguous sequences", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  auto bus = std::make_shared<infra::in_process_room_bus>();
  captured seen;
  auto subscription = bus->subscribe([&](std::span<const infra::room_message> batch) {
    std::lock_guard lock(seen.mutex);
    seen.messages.insert(seen.messages.end(), batch.begin(), batch.end());
  });
  projections::rooms_options options;
  options.bus = bus;
  auto rooms = std::make_shared<projections::rooms_projection>(options);
  history(env);
  auto p = env.start({rooms});
  env.catch_up(*p);

  const auto deal = log_rows(env, "deal:d1");
  REQUIRE(deal.size() == 5);  // created, 2 moves, owner, the linked task
  for (std::size_t i = 0; i < deal.size(); ++i) CHECK(deal[i].seq == static_cast<int>(i + 1));
  CHECK(deal[0].kind == "deal.created");
  CHECK(deal[1].kind == "deal.stage_moved");
  CHECK(deal[4].kind == "task.created");

  // The pipeline room sees the deal's events, including those that do not name the pipeline.
  const auto pipeline = log_rows(env, "pipeline:p1");
  REQUIRE(pipeline.size() == 4);
  CHECK(pipeline[3].kind == "deal.owner_assigned");

  const auto ana = log_rows(env, "user:ana");
  REQUIRE(ana.size() == 2);  // her deal created, then taken from her
  const auto ben = log_rows(env, "user:ben");
  REQUIRE(ben.size() == 2);  // the deal handed to him, his task
  CHECK(ben[1].kind == "task.created");
  REQUIRE(log_rows(env, "contact:c1").size() == 1);

  // What the bus carried equals the log, in order.
  const auto published = seen.in("deal:d1");
  REQUIRE(published.size() == deal.size());
  for (std::size_t i = 0; i < deal.size(); ++i) {
    CHECK(published[i].seq == deal[i].seq);
    CHECK(published[i].position == deal[i].position);
  }
  CHECK(published[1].data.find("\"to_stage_id\":\"s2\"") != std::string::npos);
  CHECK(published[1].data.find("\"version\":2") != std::string::npos);
  CHECK(published[1].data.find("\"actor\":\"user-test\"") != std::string::npos);
  const auto frame = infra::update_frame(published[1]);
  CHECK(frame.rfind(R"({"op":"update","room":"deal:d1","seq":2,"position":)", 0) == 0);
}

TEST_CASE_TEMPLATE("rooms: sequences continue after a restart and a rebuild numbers them alike",
                   Backend, sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  auto rooms = std::make_shared<projections::rooms_projection>();
  history(env);
  {
    auto p = env.start({rooms});
    env.catch_up(*p);
  }
  env.append("deal-d1", deal_won{deal_id{"d1"}, at(30)});
  auto p = env.start({rooms});
  env.catch_up(*p);
  const auto deal = log_rows(env, "deal:d1");
  REQUIRE(deal.size() == 6);
  CHECK(deal[5].seq == 6);
  CHECK(deal[5].kind == "deal.won");

  std::string before;
  {
    auto session = env.db().acquire();
    before = table_digest(*session, "rm_room_updates");
  }
  p->rebuild("rooms");
  REQUIRE(p->wait_for_rebuild("rooms", 20s));
  auto session = env.db().acquire();
  // The whole history is within the retention window, so the rebuilt log holds all of it.
  CHECK(table_digest(*session, "rm_room_updates") == before);
}

TEST_CASE_TEMPLATE("rooms: a writer that trims its caches numbers on from the rows it wrote",
                   Backend, sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  // Every flush drops the caches of a generation this writer opened empty: a room it no longer
  // caches has rows, and its sequence goes on from them (it once restarted at 1, and the log
  // refused the duplicate).
  projections::rooms_options options;
  options.max_cached = 1;
  auto rooms = std::make_shared<projections::rooms_projection>(options);
  history(env);
  env.append("deal-d1", deal_won{deal_id{"d1"}, at(30)});
  projections::projector_options small;
  small.live_batch_events = 2;
  auto p = env.start({rooms}, small);
  env.catch_up(*p);
  env.append("deal-d1", deal_reopened{deal_id{"d1"}, stage_id{"s1"}, at(40)});
  env.catch_up(*p);
  const auto deal = log_rows(env, "deal:d1");
  REQUIRE(deal.size() == 7);
  for (std::size_t i = 0; i < deal.size(); ++i) CHECK(deal[i].seq == static_cast<int>(i + 1));
  CHECK(deal[6].kind == "deal.reopened");
  CHECK(log_rows(env, "pipeline:p1").back().seq == 6);
}

}  // namespace realmkit::testing

namespace realmkit::testing {

TEST_CASE_TEMPLATE("rooms: a deal's or contact's message carries its owner's team at that event",
                   Backend, sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  // A writer that forgets its caches after every batch must find the teams in its rows, too.
  projections::rooms_options options;
  options.max_cached = 1;
  auto rooms = std::make_shared<projections::rooms_projection>(options);
  user_registered ana{user_id{"ana"}, "ana@example.com", "Ana", user_role::sales_rep,
                      team_id{"north"}};
  user_registered ben{user_id{"ben"}, "ben@example.com", "Ben", user_role::sales_rep, std::nullopt};
  env.append("user-ana", ana);
  env.append("user-ben", ben);
  history(env);  // d1 owned by ana, then ben; a task and a call
  env.append("user-ben", user_team_changed{user_id{"ben"}, std::nullopt, team_id{"south"}});
  env.append("deal-d1", deal_won{deal_id{"d1"}, at(30)});
  projections::projector_options small;
  small.live_batch_events = 1;
  auto p = env.start({rooms}, small);
  env.catch_up(*p);

  std::vector<std::pair<std::string, std::optional<std::string>>> teams;
  for (const auto& r : env.query(
           "SELECT kind, team FROM rm_room_updates WHERE room = 'pipeline:p1' ORDER BY seq", {})) {
    teams.emplace_back(r.text(0), r.optional_text(1));
  }
  const std::vector<std::pair<std::string, std::optional<std::string>>> expected{
      {"deal.created", "north"},
      {"deal.stage_moved", "north"},
      {"deal.stage_moved", "north"},
      {"deal.owner_assigned", ""},  // ben had no team yet
      {"deal.won", "south"}};
  CHECK(teams == expected);
  // A task on the deal is about no team-owned record of its own.
  const auto task = env.query(
      "SELECT team FROM rm_room_updates WHERE room = 'deal:d1' AND kind = 'task.created'", {});
  REQUIRE(task.size() == 1);
  CHECK_FALSE(task[0].optional_text(0));
}

}  // namespace realmkit::testing

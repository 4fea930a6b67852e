// The hub's rules without sockets: a gap in the bus repaired from the log, a subscription that
// loads while updates arrive (nothing missed, nothing twice), updates the log lost, the team filter
// of pipeline rooms, a record moving out of scope, presence.
#include "realtime/hub.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <condition_variable>
#include <map>

#include "realtime/protocol.hpp"

namespace realmkit::realtime {
namespace {

using namespace std::chrono_literals;

// What one client was sent, parsed, in order.
class recorder final : public subscriber {
 public:
  void deliver(shared_frame f) override {
    std::lock_guard lock(mutex_);
    frames_.push_back(f->text);
    arrived_.notify_all();
  }

  // Waits until `n` frames have arrived (REQUIREs it within 5 s), then returns all of them.
  std::vector<rapidjson::Document> wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    REQUIRE(arrived_.wait_for(lock, 5s, [&] { return frames_.size() >= n; }));
    std::vector<rapidjson::Document> out;
    for (const auto& f : frames_) {
      out.emplace_back();
      out.back().Parse(f.c_str());
    }
    return out;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return frames_.size();
  }

 private:
  std::mutex mutex_;  // guards frames_
  std::condition_variable arrived_;
  std::vector<std::string> frames_;
};

infra::room_message message(const std::string& room, std::int64_t seq,
                            std::optional<std::string> team = std::nullopt) {
  return {room, seq, 100 + seq, "deal.stage_moved", "{}", {}, std::move(team)};
}

// A log of room updates the test fills; `hold` makes replays wait until released, so that the
// test can publish while a subscription loads.
class memory_log final : public room_log {
 public:
  void add(const infra::room_message& m) {
    std::lock_guard lock(mutex_);
    rows_[m.room].push_back(m);
  }
  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    released_.notify_all();
  }
  // Waits until a replay is waiting on hold().
  void wait_for_reader() {
    std::unique_lock lock(mutex_);
    REQUIRE(released_.wait_for(lock, 5s, [&] { return waiting_; }));
  }

  room_replay replay(const std::string& room, std::optional<std::int64_t> since,
                     std::size_t limit) override {
    std::unique_lock lock(mutex_);
    waiting_ = true;
    released_.notify_all();
    released_.wait(lock, [&] { return !held_; });
    waiting_ = false;
    room_replay out;
    const auto& rows = rows_[room];
    if (!rows.empty()) {
      out.head_seq = rows.back().seq;
      out.head_position = rows.back().position;
    }
    if (since) {
      for (const auto& m : rows) {
        if (m.position > *since) out.messages.push_back(m);
      }
      out.complete = out.messages.size() <= limit;
    }
    return out;
  }
  std::vector<infra::room_message> range(const std::string& room, std::int64_t from,
                                         std::int64_t to) override {
    std::lock_guard lock(mutex_);
    ++range_reads;
    std::vector<infra::room_message> out;
    for (const auto& m : rows_[room]) {
      if (m.seq >= from && m.seq <= to) out.push_back(m);
    }
    return out;
  }

  int range_reads = 0;

 private:
  std::mutex mutex_;  // guards everything
  std::condition_variable released_;
  std::map<std::string, std::vector<infra::room_message>> rows_;
  bool held_ = false;
  bool waiting_ = false;
};

class open_access final : public room_access {
 public:
  std::optional<access_refusal> check(const viewer&, const room_name&,
                                      std::optional<std::int64_t>) override {
    return std::nullopt;
  }
};

struct env {
  infra::in_process_room_bus bus;
  memory_log log;
  open_access access;
  infra::worker_pool pool{{.name = "hub-test", .threads = 2}};
  hub rooms{bus, log, access, pool};

  // Publishes as the projector does: the log first (the commit), then the bus.
  void commit(std::vector<infra::room_message> messages, bool to_bus = true) {
    for (const auto& m : messages) log.add(m);
    if (to_bus) bus.publish(messages);
  }
};

viewer admin() {
  return {"u-admin", domain::user_role::admin, true, std::nullopt};
}
viewer rep(std::string team) {
  return {"u-" + team, domain::user_role::sales_rep, false, std::move(team)};
}

std::string op(const rapidjson::Document& d) {
  return d["op"].GetString();
}
std::vector<std::int64_t> seqs(const std::vector<rapidjson::Document>& frames) {
  std::vector<std::int64_t> out;
  for (const auto& f : frames) {
    if (op(f) == "update") out.push_back(f["seq"].GetInt64());
  }
  return out;
}

}  // namespace

TEST_CASE("hub: a gap in the bus is filled from the log before anything later goes out") {
  env e;
  e.commit({message("deal:d1", 1)});
  auto client = std::make_shared<recorder>();
  e.rooms.subscribe(client, admin(), "deal:d1", std::nullopt);
  CHECK(op(client->wait_for(1)[0]) == "subscribed");

  e.commit({message("deal:d1", 2)});
  // 3 and 4 reach the log but not this hub (Redis pub/sub lost them); 5 arrives.
  e.commit({message("deal:d1", 3), message("deal:d1", 4)}, false);
  e.commit({message("deal:d1", 5)});
  e.commit({message("deal:d1", 6)});
  const auto frames = client->wait_for(6);
  CHECK(seqs(frames) == std::vector<std::int64_t>{2, 3, 4, 5, 6});
  CHECK(e.log.range_reads == 1);
}

TEST_CASE(
    "hub: after a bus outage, updates lost with nothing after them are fetched from the log") {
  env e;
  e.commit({message("deal:d1", 1)});
  e.commit({message("deal:d2", 1)});
  auto client = std::make_shared<recorder>();
  e.rooms.subscribe(client, admin(), "deal:d1", std::nullopt);
  e.rooms.subscribe(client, admin(), "deal:d2", std::nullopt);
  client->wait_for(2);
  e.commit({message("deal:d1", 2)});
  client->wait_for(3);
  // The bus was down while 3 and 4 of d1 committed, and the room has been quiet since.
  e.commit({message("deal:d1", 3), message("deal:d1", 4)}, false);
  e.rooms.check_rooms();
  const auto frames = client->wait_for(5);
  CHECK(seqs(frames) == std::vector<std::int64_t>{2, 3, 4});
  CHECK(e.log.range_reads == 1);  // d2 was checked, and is up to date
  // Later messages follow without a second repair or a duplicate.
  e.commit({message("deal:d1", 5)});
  CHECK(seqs(client->wait_for(6)) == std::vector<std::int64_t>{2, 3, 4, 5});
  CHECK(e.log.range_reads == 1);
}

TEST_CASE("hub: updates the log no longer holds become a resync, and delivery goes on") {
  env e;
  e.commit({message("deal:d1", 1)});
  auto client = std::make_shared<recorder>();
  e.rooms.subscribe(client, admin(), "deal:d1", std::nullopt);
  client->wait_for(1);
  // Seq 2 is nowhere: not on the bus, not in the log.
  e.commit({message("deal:d1", 3)});
  e.commit({message("deal:d1", 4)});
  const auto frames = client->wait_for(4);
  CHECK(op(frames[1]) == "resync");
  // Reload up to just before the first update still held, then go on from it.
  CHECK(frames[1]["position"].GetInt64() == 102);
  CHECK(seqs(frames) == std::vector<std::int64_t>{3, 4});
}

TEST_CASE("hub: a subscription that loads while updates arrive misses none and gets none twice") {
  env e;
  e.commit({message("pipeline:p1", 1), message("pipeline:p1", 2)});
  auto first = std::make_shared<recorder>();
  e.rooms.subscribe(first, admin(), "pipeline:p1", std::nullopt);
  first->wait_for(2);  // subscribed, presence

  // The second one's replay is read while 3 and 4 are committed and fanned out.
  e.log.hold();
  auto second = std::make_shared<recorder>();
  e.rooms.subscribe(second, admin(), "pipeline:p1", 101);
  e.log.wait_for_reader();
  e.commit({message("pipeline:p1", 3)});
  e.commit({message("pipeline:p1", 4)});
  e.log.release();
  e.commit({message("pipeline:p1", 5)});

  const auto frames = second->wait_for(6);  // subscribed, 2 3 4, presence, 5
  CHECK(op(frames[0]) == "subscribed");
  CHECK(seqs(frames) == std::vector<std::int64_t>{2, 3, 4, 5});
  CHECK(seqs(first->wait_for(5)) == std::vector<std::int64_t>{3, 4, 5});
}

TEST_CASE("hub: a pipeline room shows a team-scoped user only their team's deals") {
  env e;
  auto north = std::make_shared<recorder>();
  auto boss = std::make_shared<recorder>();
  e.rooms.subscribe(north, rep("north"), "pipeline:p1", std::nullopt);
  e.rooms.subscribe(boss, admin(), "pipeline:p1", std::nullopt);
  north->wait_for(2);
  boss->wait_for(2);
  e.commit({message("pipeline:p1", 1, "north"), message("pipeline:p1", 2, "south"),
            message("pipeline:p1", 3, ""), message("pipeline:p1", 4, std::nullopt),
            message("pipeline:p1", 5, "north")});
  CHECK(seqs(boss->wait_for(7)) == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  // The pipeline's own changes (no team) and north's deals.
  const auto frames = north->wait_for(6);
  std::vector<std::int64_t> got;
  for (const auto& f : frames) {
    if (op(f) == "update") got.push_back(f["seq"].GetInt64());
  }
  CHECK(got == std::vector<std::int64_t>{1, 4, 5});
}

TEST_CASE("hub: a deal handed to another team ends a team-scoped subscription to it") {
  env e;
  auto north = std::make_shared<recorder>();
  e.rooms.subscribe(north, rep("north"), "deal:d1", std::nullopt);
  north->wait_for(1);
  e.commit({message("deal:d1", 1, "north"), message("deal:d1", 2, "south"),
            message("deal:d1", 3, "south")});
  const auto frames = north->wait_for(3);
  CHECK(frames[1]["seq"].GetInt64() == 1);
  CHECK(op(frames[2]) == "error");
  CHECK(std::string(frames[2]["code"].GetString()) == "forbidden");
  CHECK(e.rooms.subscriptions() == 0);
  CHECK(e.rooms.rooms() == 0);
}

TEST_CASE("hub: presence tells who views a board, once per user, and when they leave") {
  env e;
  auto a = std::make_shared<recorder>();
  auto b = std::make_shared<recorder>();
  auto b_again = std::make_shared<recorder>();
  e.rooms.subscribe(a, rep("north"), "pipeline:p1", std::nullopt);
  a->wait_for(2);
  e.rooms.subscribe(b, admin(), "pipeline:p1", std::nullopt);
  const auto b_frames = b->wait_for(2);
  CHECK(std::string(b_frames[1]["action"].GetString()) == "here");
  CHECK(b_frames[1]["users"].Size() == 1);
  auto a_frames = a->wait_for(3);
  CHECK(std::string(a_frames[2]["action"].GetString()) == "join");
  CHECK(std::string(a_frames[2]["user_id"].GetString()) == "u-admin");
  // A second tab of the same user is not announced; closing the first is not a leave.
  e.rooms.subscribe(b_again, admin(), "pipeline:p1", std::nullopt);
  b_again->wait_for(2);
  e.rooms.leave(b);
  e.rooms.unsubscribe(b_again, "pipeline:p1");
  a_frames = a->wait_for(4);
  REQUIRE(a_frames.size() == 4);
  CHECK(std::string(a_frames[3]["action"].GetString()) == "leave");
  CHECK(e.rooms.subscriptions() == 1);
}

TEST_CASE("hub: subscribing twice, or to too many rooms, is refused") {
  env e;
  auto c = std::make_shared<recorder>();
  e.rooms.subscribe(c, admin(), "user:u-admin", std::nullopt);
  c->wait_for(1);
  e.rooms.subscribe(c, admin(), "user:u-admin", std::nullopt);
  CHECK(std::string(c->wait_for(2)[1]["code"].GetString()) == "already_subscribed");
  e.rooms.unsubscribe(c, "deal:nope");
  CHECK(std::string(c->wait_for(3)[2]["code"].GetString()) == "not_subscribed");
}

}  // namespace realmkit::realtime

// The rooms of one hub process: who is subscribed where, and the room messages from the bus
// delivered to them in sequence order, each serialized once. A subscription starts with the
// updates the client missed (from the retained log, after `since`); a gap in what the bus
// delivers (at-most-once in distributed mode) is repaired from the log before anything later is
// delivered, so no subscriber ever silently misses an update (ARCHITECTURE §3 invariant 7).
// Transport-free: sessions are `subscriber`s, so the rules are tested without sockets.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "infra/metrics.hpp"
#include "infra/room_bus.hpp"
#include "infra/worker_pool.hpp"
#include "realtime/room_access.hpp"
#include "realtime/room_log.hpp"

namespace realmkit::realtime {

// A frame, shared by every session it goes to.
struct frame {
  std::string text;
  std::chrono::steady_clock::time_point made = std::chrono::steady_clock::now();
};
using shared_frame = std::shared_ptr<const frame>;
inline shared_frame make_frame(std::string text) {
  return std::make_shared<const frame>(frame{std::move(text)});
}

// A connection as the hub sees it.
class subscriber {
 public:
  virtual ~subscriber() = default;
  // Queues a frame for the client. Called with the hub's lock held: it must not block or call
  // back into the hub.
  virtual void deliver(shared_frame f) = 0;
};

struct hub_options {
  // Updates replayed to one new subscription at most; beyond, it gets `resync`.
  std::size_t max_replay = 10'000;
  // Bus messages a room holds while it repairs a gap (or one subscription holds while it loads);
  // beyond, its subscribers get `resync`.
  std::size_t max_pending = 10'000;
  std::size_t max_rooms_per_subscriber = 100;
  infra::metrics_registry* metrics = nullptr;
};

class hub final {
 public:
  // Follows `bus` from construction to destruction. The log, access rules and pool (for their
  // blocking reads) must outlive the hub.
  hub(infra::room_bus& bus, room_log& log, room_access& access, infra::worker_pool& pool,
      hub_options options = {});
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  // Checks access and loads the room on the pool, then delivers `subscribed`, the updates after
  // `since`, and from then on every update of the room `who` may see; or an `error` frame.
  void subscribe(const std::shared_ptr<subscriber>& s, const viewer& who, const std::string& room,
                 std::optional<std::int64_t> since);
  // Delivers `unsubscribed` (or an error when not subscribed).
  void unsubscribe(const std::shared_ptr<subscriber>& s, const std::string& room);
  // Forgets every subscription of `s` (its connection closed). Nothing is delivered to it after.
  void leave(const std::shared_ptr<subscriber>& s);

  // The bus may have lost messages (Redis pub/sub reconnected): compares every room's last
  // delivered seq with the log's head and repairs the rooms that fell behind, so an update
  // followed by silence is not missed until the room's next one. Returns at once.
  void check_rooms();

  std::size_t rooms() const;
  std::size_t subscriptions() const;

 private:
  struct entry {
    infra::room_message message;
    shared_frame update;
  };
  using shared_entry = std::shared_ptr<const entry>;

  struct member {
    std::shared_ptr<subscriber> who;
    viewer as;
    std::int64_t delivered = 0;  // the last seq delivered (or hidden from it)
  };
  struct joiner {
    std::shared_ptr<subscriber> who;
    viewer as;
    std::vector<shared_entry> held;  // fanned out while its replay loads
    bool overflowed = false;
  };
  struct room_state {
    std::uint64_t id = 0;   // tells a task's room from a later one of the same name
    bool record = false;    // deal:/contact:, where a message it may not see ends the subscription
    bool presence = false;  // pipeline:, whose viewers are announced
    std::int64_t last_seq = -1;  // -1: not known yet (the first replay tells)
    std::int64_t last_position = 0;
    bool repairing = false;
    std::deque<shared_entry> pending;  // from the bus, waiting for the head or a repair
    std::vector<member> members;
    std::unordered_map<subscriber*, joiner> joiners;
    std::map<std::string, int> viewers;  // presence: user → subscriptions
  };

  void on_bus(std::span<const infra::room_message> messages);
  void load(const std::string& room, std::uint64_t room_id, subscriber* s,
            std::optional<std::int64_t> since);
  void on_loaded(const std::string& room, std::uint64_t room_id, subscriber* s,
                 std::optional<std::int64_t> since, room_replay replay);
  void on_load_failed(const std::string& room, std::uint64_t room_id, subscriber* s,
                      const std::string& code, const std::string& detail);
  void offer(const std::string& name, room_state& r, shared_entry e);
  void fan_out(const std::string& name, room_state& r, const shared_entry& e);
  void repair(const std::string& name, room_state& r, std::int64_t to_seq);
  void on_repaired(const std::string& name, std::uint64_t room_id, std::int64_t to_seq,
                   std::vector<infra::room_message> found);
  void resync_room(const std::string& name, room_state& r, const std::string& reason);
  void drain(const std::string& name, room_state& r);
  void join_presence(const std::string& name, room_state& r, const member& m);
  void leave_presence(const std::string& name, room_state& r, const std::string& user);
  // Removes the subscription of `s` to `name`; false when there was none. Forgets the room when
  // it is left empty, unless the caller still works on it.
  bool remove(subscriber* s, const std::string& name, bool forget = true);
  void forget_if_empty(const std::string& name);
  void update_gauges();

  infra::room_bus& bus_;
  room_log& log_;
  room_access& access_;
  infra::worker_pool& pool_;
  const hub_options options_;

  // Runs `task` on the pool, counted so that the destructor waits for it; false when refused.
  bool submit(std::function<void()> task);

  // Its own lock: repairs are submitted with mutex_ held.
  std::mutex tasks_mutex_;        // guards tasks_
  std::condition_variable idle_;  // tasks_ fell to 0
  std::size_t tasks_ = 0;         // pool tasks in flight

  mutable std::mutex mutex_;  // guards everything below
  std::unordered_map<std::string, room_state> rooms_;
  std::unordered_map<subscriber*, std::unordered_set<std::string>> memberships_;
  std::uint64_t next_room_id_ = 1;
  std::size_t subscriptions_ = 0;

  infra::gauge* rooms_gauge_ = nullptr;
  infra::gauge* subscriptions_gauge_ = nullptr;
  infra::counter* resyncs_ = nullptr;
  infra::counter* repairs_ = nullptr;
  std::unique_ptr<infra::room_bus::subscription> following_;  // last: it calls on_bus
};

}  // namespace realmkit::realtime

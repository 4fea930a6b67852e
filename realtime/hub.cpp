#include "realtime/hub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "realtime/protocol.hpp"

namespace realmkit::realtime {

hub::hub(infra::room_bus& bus, room_log& log, room_access& access, infra::worker_pool& pool,
         hub_options options)
    : bus_(bus), log_(log), access_(access), pool_(pool), options_(options) {
  if (auto* m = options_.metrics) {
    rooms_gauge_ = &m->gauge_for("realmkit_ws_rooms", "Rooms with at least one subscriber");
    subscriptions_gauge_ =
        &m->gauge_for("realmkit_ws_subscriptions", "Room subscriptions of connected clients");
    resyncs_ = &m->counter_for("realmkit_ws_resyncs_total",
                               "Subscriptions told to reload over HTTP (updates lost to them)");
    repairs_ = &m->counter_for("realmkit_ws_gap_repairs_total",
                               "Gaps in the room bus repaired from the room-update log");
  }
  following_ = bus_.subscribe([this](std::span<const infra::room_message> m) { on_bus(m); });
}

hub::~hub() {
  following_.reset();  // no message arrives after this
  std::unique_lock lock(tasks_mutex_);
  idle_.wait(lock, [&] { return tasks_ == 0; });
}

bool hub::submit(std::function<void()> task) {
  {
    std::lock_guard lock(tasks_mutex_);
    ++tasks_;
  }
  const bool queued = pool_.try_submit([this, task = std::move(task)] {
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("hub: a room task failed: {}", e.what());
    }
    std::lock_guard lock(tasks_mutex_);
    if (--tasks_ == 0) idle_.notify_all();
  });
  if (!queued) {
    std::lock_guard lock(tasks_mutex_);
    if (--tasks_ == 0) idle_.notify_all();
  }
  return queued;
}

// ---- subscriptions ----

void hub::subscribe(const std::shared_ptr<subscriber>& s, const viewer& who,
                    const std::string& room, std::optional<std::int64_t> since) {
  const auto parsed = parse_room(room);
  std::uint64_t room_id = 0;
  {
    std::lock_guard lock(mutex_);
    if (!parsed) {
      s->deliver(make_frame(error_frame({"invalid_room", "no such room", room})));
      return;
    }
    auto& mine = memberships_[s.get()];
    if (mine.contains(room)) {
      s->deliver(make_frame(error_frame({"already_subscribed", "already subscribed", room})));
      return;
    }
    if (mine.size() >= options_.max_rooms_per_subscriber) {
      s->deliver(
          make_frame(error_frame({"too_many_rooms",
                                  "at most " + std::to_string(options_.max_rooms_per_subscriber) +
                                      " rooms per connection; unsubscribe from one first",
                                  room})));
      return;
    }
    auto [it, added] = rooms_.try_emplace(room);
    auto& r = it->second;
    if (added) {
      r.id = next_room_id_++;
      r.record = parsed->kind == room_kind::deal || parsed->kind == room_kind::contact;
      r.presence = parsed->kind == room_kind::pipeline;
    }
    room_id = r.id;
    mine.insert(room);
    // From now on the room's messages are held for it: whatever is fanned out before its replay
    // is read is in the replay, whatever after is held (ARCHITECTURE §3 invariant 7).
    r.joiners.emplace(s.get(), joiner{s, who, {}, false});
    ++subscriptions_;
    update_gauges();
  }
  subscriber* raw = s.get();
  const auto name = room;
  const bool queued = submit([this, name, room_id, raw, who, since, kind = *parsed] {
    std::optional<access_refusal> refusal;
    try {
      refusal = access_.check(who, kind, since);
    } catch (const std::exception& e) {
      spdlog::warn("hub: cannot check access to {}: {}", name, e.what());
      return on_load_failed(name, room_id, raw, "unavailable",
                            "the hub cannot check access now; subscribe again shortly");
    }
    if (refusal) return on_load_failed(name, room_id, raw, refusal->code, refusal->detail);
    load(name, room_id, raw, since);
  });
  if (!queued) {
    on_load_failed(name, room_id, raw, "overloaded",
                   "the hub is too busy to subscribe now; subscribe again shortly");
  }
}

void hub::load(const std::string& room, std::uint64_t room_id, subscriber* s,
               std::optional<std::int64_t> since) {
  room_replay replay;
  try {
    replay = log_.replay(room, since, options_.max_replay);
  } catch (const std::exception& e) {
    spdlog::warn("hub: cannot read the room-update log of {}: {}", room, e.what());
    return on_load_failed(room, room_id, s, "unavailable",
                          "the room-update log cannot be read now; subscribe again shortly");
  }
  std::lock_guard lock(mutex_);
  on_loaded(room, room_id, s, since, std::move(replay));
}

void hub::on_load_failed(const std::string& room, std::uint64_t room_id, subscriber* s,
                         const std::string& code, const std::string& detail) {
  std::lock_guard lock(mutex_);
  const auto it = rooms_.find(room);
  if (it == rooms_.end() || it->second.id != room_id) return;
  const auto j = it->second.joiners.find(s);
  if (j == it->second.joiners.end()) return;  // unsubscribed or gone meanwhile
  j->second.who->deliver(make_frame(error_frame({code, detail, room})));
  remove(s, room);
}

void hub::on_loaded(const std::string& room, std::uint64_t room_id, subscriber* s,
                    std::optional<std::int64_t> since, room_replay replay) {
  const auto it = rooms_.find(room);
  if (it == rooms_.end() || it->second.id != room_id) return;
  auto& r = it->second;
  const auto j = r.joiners.find(s);
  if (j == r.joiners.end()) return;  // unsubscribed or gone meanwhile
  joiner joining = std::move(j->second);
  r.joiners.erase(j);

  member m{joining.who, joining.as, replay.head_seq};
  m.who->deliver(make_frame(subscribed_frame(room, replay.head_seq, replay.head_position)));
  if (joining.overflowed || (since && !replay.complete)) {
    if (resyncs_) resyncs_->inc();
    m.who->deliver(make_frame(
        resync_frame(room, replay.head_position,
                     "the retained log does not hold every update since that position")));
  } else if (since) {
    for (const auto& msg : replay.messages) {
      // Updates of records the viewer could not see then (another team's) stay hidden.
      if (can_see(m.as, msg.team)) m.who->deliver(make_frame(infra::update_frame(msg)));
    }
  }
  // What was fanned out while the replay loaded and is not in it.
  bool still_member = true;
  for (const auto& held : joining.held) {
    if (held->message.seq <= m.delivered) continue;
    m.delivered = held->message.seq;
    if (can_see(m.as, held->message.team)) {
      m.who->deliver(held->update);
    } else if (r.record) {
      still_member = false;
      break;
    }
  }
  if (!still_member) {
    m.who->deliver(
        make_frame(error_frame({"forbidden", "the record is no longer visible to you", room})));
    remove(s, room);
    return;
  }
  const bool known = r.last_seq >= 0;
  if (!known) {
    r.last_seq = replay.head_seq;
    r.last_position = replay.head_position;
  }
  join_presence(room, r, m);
  r.members.push_back(std::move(m));
  if (!known) drain(room, r);
  forget_if_empty(room);
}

void hub::unsubscribe(const std::shared_ptr<subscriber>& s, const std::string& room) {
  std::lock_guard lock(mutex_);
  if (!remove(s.get(), room)) {
    s->deliver(make_frame(error_frame({"not_subscribed", "not subscribed to this room", room})));
    return;
  }
  s->deliver(make_frame(unsubscribed_frame(room)));
}

void hub::leave(const std::shared_ptr<subscriber>& s) {
  std::lock_guard lock(mutex_);
  const auto it = memberships_.find(s.get());
  if (it == memberships_.end()) return;
  const auto rooms = it->second;  // remove() edits it
  for (const auto& room : rooms) remove(s.get(), room);
  memberships_.erase(s.get());
}

bool hub::remove(subscriber* s, const std::string& name, bool forget) {
  const auto mine = memberships_.find(s);
  if (mine == memberships_.end() || !mine->second.erase(name)) return false;
  if (mine->second.empty()) memberships_.erase(mine);
  --subscriptions_;
  const auto it = rooms_.find(name);
  if (it != rooms_.end()) {
    auto& r = it->second;
    r.joiners.erase(s);
    const auto m = std::find_if(r.members.begin(), r.members.end(),
                                [&](const member& x) { return x.who.get() == s; });
    if (m != r.members.end()) {
      const auto user = m->as.user_id;
      r.members.erase(m);
      leave_presence(name, r, user);
    }
    if (forget) forget_if_empty(name);
  }
  update_gauges();
  return true;
}

void hub::forget_if_empty(const std::string& name) {
  const auto it = rooms_.find(name);
  if (it == rooms_.end()) return;
  // A repair in flight finds no room (or a later one, with another id) and stops.
  if (it->second.members.empty() && it->second.joiners.empty()) rooms_.erase(it);
}

// ---- messages ----

void hub::on_bus(std::span<const infra::room_message> messages) {
  std::lock_guard lock(mutex_);
  for (const auto& m : messages) {
    const auto it = rooms_.find(m.room);
    if (it == rooms_.end()) continue;  // nobody here listens
    auto e = std::make_shared<const entry>(entry{m, make_frame(infra::update_frame(m))});
    offer(it->first, it->second, std::move(e));
    forget_if_empty(m.room);
  }
}

void hub::check_rooms() {
  std::vector<std::pair<std::string, std::uint64_t>> known;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, r] : rooms_) {
      if (r.last_seq >= 0) known.emplace_back(name, r.id);
    }
  }
  if (known.empty()) return;
  // One task reads the heads one room after another: a reconnect must not flood the pool.
  const bool queued = submit([this, known = std::move(known)] {
    for (const auto& [name, room_id] : known) {
      room_replay head;
      try {
        head = log_.replay(name, std::nullopt, 0);
      } catch (const std::exception& e) {
        spdlog::warn("hub: cannot check room {} after a bus outage: {}", name, e.what());
        continue;
      }
      std::lock_guard lock(mutex_);
      const auto it = rooms_.find(name);
      if (it == rooms_.end() || it->second.id != room_id) continue;
      auto& r = it->second;
      if (r.repairing || r.last_seq < 0 || head.head_seq <= r.last_seq) continue;
      repair(name, r, head.head_seq);
    }
  });
  if (!queued) {
    std::lock_guard lock(mutex_);
    for (auto& [name, r] : rooms_) resync_room(name, r, "the hub is overloaded");
  }
}

void hub::offer(const std::string& name, room_state& r, shared_entry e) {
  if (r.last_seq < 0 || r.repairing) {
    if (r.pending.size() >= options_.max_pending)
      return resync_room(name, r, "the hub fell behind");
    r.pending.push_back(std::move(e));
    return;
  }
  const auto seq = e->message.seq;
  if (seq <= r.last_seq) return;  // delivered already (a replay, or the bus twice)
  if (seq == r.last_seq + 1) return fan_out(name, r, e);
  // A gap: hold this one and fetch the missing ones from the log first.
  r.pending.push_back(std::move(e));
  repair(name, r, seq - 1);
}

void hub::fan_out(const std::string& name, room_state& r, const shared_entry& e) {
  r.last_seq = e->message.seq;
  r.last_position = e->message.position;
  std::vector<subscriber*> lost;
  for (auto& m : r.members) {
    if (e->message.seq <= m.delivered) continue;
    m.delivered = e->message.seq;
    if (can_see(m.as, e->message.team)) {
      m.who->deliver(e->update);
    } else if (r.record) {
      // The deal or contact moved to another team: the subscription ends.
      m.who->deliver(
          make_frame(error_frame({"forbidden", "the record is no longer visible to you", name})));
      lost.push_back(m.who.get());
    }
  }
  for (auto& [who, j] : r.joiners) {
    if (j.held.size() >= options_.max_pending) {
      j.overflowed = true;
      j.held.clear();
    }
    if (!j.overflowed) j.held.push_back(e);
  }
  // The room stays (perhaps empty) until the caller is done with it.
  for (auto* s : lost) remove(s, name, false);
}

void hub::repair(const std::string& name, room_state& r, std::int64_t to_seq) {
  r.repairing = true;
  if (repairs_) repairs_->inc();
  const auto from_seq = r.last_seq + 1;
  const auto room_id = r.id;
  const bool queued = submit([this, name, room_id, from_seq, to_seq] {
    std::vector<infra::room_message> found;
    try {
      found = log_.range(name, from_seq, to_seq);
    } catch (const std::exception& e) {
      spdlog::warn("hub: cannot repair room {} from the log: {}", name, e.what());
    }
    std::lock_guard lock(mutex_);
    on_repaired(name, room_id, to_seq, std::move(found));
  });
  if (!queued) {
    r.repairing = false;
    resync_room(name, r, "the hub is overloaded");
  }
}

void hub::on_repaired(const std::string& name, std::uint64_t room_id, std::int64_t to_seq,
                      std::vector<infra::room_message> found) {
  const auto it = rooms_.find(name);
  if (it == rooms_.end() || it->second.id != room_id) return;
  auto& r = it->second;
  r.repairing = false;
  for (auto& m : found) {
    if (m.seq != r.last_seq + 1) continue;
    auto e = std::make_shared<const entry>(entry{m, make_frame(infra::update_frame(m))});
    fan_out(name, r, e);
  }
  if (r.last_seq < to_seq) {
    // The log does not have them (pruned, or the database failed): the subscribers reload what
    // came before the first update held, and get that one and the rest as usual.
    spdlog::warn("hub: room {} lost updates {}..{} that the log does not hold", name,
                 r.last_seq + 1, to_seq);
    const auto position =
        r.pending.empty() ? r.last_position : r.pending.front()->message.position - 1;
    const auto f =
        make_frame(resync_frame(name, position, "updates were lost on the way to this hub"));
    for (const auto& m : r.members) m.who->deliver(f);
    if (resyncs_) resyncs_->inc(r.members.size());
    r.last_seq = to_seq;
    r.last_position = position;
  }
  drain(name, r);
  forget_if_empty(name);
}

void hub::drain(const std::string& name, room_state& r) {
  while (!r.pending.empty() && !r.repairing && r.last_seq >= 0) {
    auto e = std::move(r.pending.front());
    r.pending.pop_front();
    offer(name, r, std::move(e));
  }
}

void hub::resync_room(const std::string& name, room_state& r, const std::string& reason) {
  // Everyone continues after the newest message the hub holds; what came before it is lost to
  // them, and they reload over HTTP.
  std::int64_t seq = r.last_seq;
  std::int64_t position = r.last_position;
  for (const auto& e : r.pending) {
    seq = std::max(seq, e->message.seq);
    position = std::max(position, e->message.position);
  }
  const auto f = make_frame(resync_frame(name, position, reason));
  for (auto& m : r.members) {
    m.who->deliver(f);
    m.delivered = seq;
    if (resyncs_) resyncs_->inc();
  }
  for (auto& [who, j] : r.joiners) j.overflowed = true;
  r.pending.clear();
  r.last_seq = seq;
  r.last_position = position;
}

// ---- presence ----

void hub::join_presence(const std::string& name, room_state& r, const member& m) {
  if (!r.presence) return;
  std::vector<std::string> here;
  for (const auto& [user, n] : r.viewers) here.push_back(user);
  m.who->deliver(make_frame(presence_list_frame(name, here)));
  if (r.viewers[m.as.user_id]++ > 0) return;  // another tab of a user already here
  const auto f = make_frame(presence_frame(name, "join", m.as.user_id));
  for (const auto& other : r.members) other.who->deliver(f);
}

void hub::leave_presence(const std::string& name, room_state& r, const std::string& user) {
  if (!r.presence) return;
  const auto it = r.viewers.find(user);
  if (it == r.viewers.end() || --it->second > 0) return;
  r.viewers.erase(it);
  const auto f = make_frame(presence_frame(name, "leave", user));
  for (const auto& other : r.members) other.who->deliver(f);
}

// ---- figures ----

std::size_t hub::rooms() const {
  std::lock_guard lock(mutex_);
  return rooms_.size();
}

std::size_t hub::subscriptions() const {
  std::lock_guard lock(mutex_);
  return subscriptions_;
}

void hub::update_gauges() {
  if (rooms_gauge_) rooms_gauge_->set(static_cast<double>(rooms_.size()));
  if (subscriptions_gauge_) subscriptions_gauge_->set(static_cast<double>(subscriptions_));
}

}  // namespace realmkit::realtime

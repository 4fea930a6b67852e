#include "app/realtime_services.hpp"

#include "api/auth/permissions.hpp"

namespace realmkit::app {

namespace sql = infra::sql;

namespace {

infra::room_message message_of(const std::string& room, const sql::row& r) {
  infra::room_message m;
  m.room = room;
  m.seq = r.integer(0);
  m.position = r.integer(1);
  m.kind = r.text(2);
  m.data = r.text(3);
  m.recorded_at = infra::timestamp{std::chrono::microseconds{r.integer(4)}};
  m.team = r.optional_text(5);
  return m;
}

constexpr std::string_view kColumns = "seq, position, kind, data, recorded_at, team";

}  // namespace

realtime::room_replay sql_room_log::replay(const std::string& room,
                                           std::optional<std::int64_t> since, std::size_t limit) {
  auto session = db_.acquire();
  realtime::room_replay out;
  // One statement, one snapshot: the room's last sequence number and the position the rooms
  // projection has reached, which that number is complete up to.
  const sql::value key[] = {room};
  const auto head = session->query(
      "SELECT (SELECT seq FROM rm_room_sequences WHERE room = $1), (SELECT position FROM "
      "projection_generations WHERE projection = 'rooms' AND state = 'live')",
      key);
  if (!head.empty()) {
    out.head_seq = head[0].optional_integer(0).value_or(0);
    out.head_position = head[0].optional_integer(1).value_or(0);
  }
  if (!since || out.head_seq == 0) return out;
  const sql::value params[] = {room, *since, out.head_seq, static_cast<std::int64_t>(limit) + 1};
  const auto rows = session->query("SELECT " + std::string(kColumns) +
                                       " FROM rm_room_updates WHERE room = $1 AND position > $2 "
                                       "AND seq <= $3 ORDER BY seq LIMIT $4",
                                   params);
  if (rows.size() > limit) {
    out.complete = false;
    return out;
  }
  for (const auto& r : rows) out.messages.push_back(message_of(room, r));
  // Complete when the update before the first one returned is still in the log (so nothing
  // between it and `since` was pruned), or there is none before it.
  const auto first = out.messages.empty() ? out.head_seq + 1 : out.messages.front().seq;
  if (first > 1) {
    const sql::value previous[] = {room, first - 1};
    const auto before = session->query(
        "SELECT position FROM rm_room_updates WHERE room = $1 AND seq = $2", previous);
    out.complete = !before.empty() && before[0].integer(0) <= *since;
  }
  return out;
}

std::vector<infra::room_message> sql_room_log::range(const std::string& room, std::int64_t from_seq,
                                                     std::int64_t to_seq) {
  auto session = db_.acquire();
  const sql::value params[] = {room, from_seq, to_seq};
  std::vector<infra::room_message> out;
  for (const auto& r : session->query("SELECT " + std::string(kColumns) +
                                          " FROM rm_room_updates WHERE room = $1 AND seq >= $2 AND "
                                          "seq <= $3 ORDER BY seq",
                                      params)) {
    out.push_back(message_of(room, r));
  }
  return out;
}

bool crm_room_access::sees_owner(const realtime::viewer& who, const std::string& owner) const {
  if (who.all_teams) return true;
  const auto team = queries_.team_of(owner);
  return realtime::can_see(who, std::optional<std::string>(team.value_or("")));
}

std::optional<realtime::access_refusal> crm_room_access::check(const realtime::viewer& who,
                                                               const realtime::room_name& room,
                                                               std::optional<std::int64_t> seen) {
  using api::auth::permission;
  // Bounded like a query's min_position; past it the read models answer as they are.
  if (seen && room.kind != realtime::room_kind::user) {
    queries_.wait_for(*seen, std::chrono::seconds(5));
  }
  const auto may = [&](permission p) { return api::auth::has_permission(who.role, p); };
  const realtime::access_refusal forbidden{"forbidden", "your role may not read this room"};
  const realtime::access_refusal missing{"not_found", "no such record"};
  switch (room.kind) {
    case realtime::room_kind::user:
      if (room.id != who.user_id) {
        return realtime::access_refusal{"forbidden", "user rooms are their own user's only"};
      }
      return std::nullopt;
    case realtime::room_kind::pipeline:
      if (!may(permission::deal_view)) return forbidden;
      if (!queries_.find_pipeline(room.id)) return missing;
      return std::nullopt;
    case realtime::room_kind::deal: {
      if (!may(permission::deal_view)) return forbidden;
      const auto deal = queries_.find_deal(room.id);
      if (!deal || !sees_owner(who, deal->state.owner.value)) return missing;
      return std::nullopt;
    }
    case realtime::room_kind::contact: {
      if (!may(permission::contact_view)) return forbidden;
      const auto contact = queries_.find_contact(room.id);
      if (!contact || !sees_owner(who, contact->state.owner.value)) return missing;
      return std::nullopt;
    }
  }
  return forbidden;
}

}  // namespace realmkit::app

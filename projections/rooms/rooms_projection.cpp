#include "projections/rooms/rooms_projection.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <set>
#include <unordered_map>

#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "infra/privacy/private_event_store.hpp"

namespace realmkit::projections {

namespace sql = infra::sql;

namespace {

constexpr std::string_view kSequences = "rm_room_sequences";
constexpr std::string_view kStreams = "rm_room_streams";
constexpr std::string_view kUsers = "rm_room_users";

std::string_view category_of(std::string_view stream_id) {
  const auto dash = stream_id.find('-');
  return dash == std::string_view::npos ? std::string_view{} : stream_id.substr(0, dash);
}

std::string_view id_of(std::string_view stream_id) {
  const auto dash = stream_id.find('-');
  return dash == std::string_view::npos ? std::string_view{} : stream_id.substr(dash + 1);
}

std::string member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// "deal:<id>" or "contact:<id>" for an entity reference with a room; "" for others.
std::string room_of_ref(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsObject()) return {};
  const auto kind = member(it->value, "kind");
  const auto id = member(it->value, "id");
  if (id.empty() || (kind != "deal" && kind != "contact")) return {};
  return kind + ":" + id;
}

std::string user_room(const std::string& user) {
  return user.empty() ? std::string() : "user:" + user;
}

// What later events of a stream need to know about it: the rooms that do not appear in every
// event's data (a deal's pipeline, a task's assignee and linked record, an activity's subject).
struct stream_rooms {
  std::string pipeline;  // deal: "pipeline:<id>"
  std::string user;      // deal: owner; task: assignee — as "user:<id>"
  std::string link;      // task: linked record's room; activity: subject's room
  std::string owner;     // deal, contact: the owner's user id (their team scopes the messages)

  bool operator==(const stream_rooms&) const = default;
};

class rooms_writer final : public projection_writer {
 public:
  rooms_writer(const rooms_projection& owner, const relation_names& names)
      : owner_(owner),
        updates_(sql::identifier(names(kRoomUpdates))),
        sequences_(sql::identifier(names(kSequences))),
        streams_(sql::identifier(names(kStreams))),
        users_(sql::identifier(names(kUsers))) {}

  void apply(const infra::recorded_event& e, apply_context& ctx) override {
    rapidjson::Document data;
    data.Parse(e.data.data(), e.data.size());
    if (data.HasParseError() || !data.IsObject()) {
      throw infra::corrupt_event("event data is not a JSON object");
    }
    const auto category = category_of(e.stream_id);
    const std::string id(id_of(e.stream_id));
    const auto kind = infra::event_kind(e.type);
    std::set<std::string> rooms;
    std::optional<std::string> team;  // of the record's owner, for deal and contact events
    auto add = [&](const std::string& room) {
      if (!room.empty()) rooms.insert(room);
    };

    if (category == "deal") {
      auto& s = stream(ctx, e.stream_id);
      const auto pipeline = member(data, "pipeline_id");
      const auto owner = member(data, "owner_id");
      const auto to_owner = member(data, "to_owner_id");
      stream_rooms updated = s;
      if (!pipeline.empty()) updated.pipeline = "pipeline:" + pipeline;
      if (!owner.empty()) updated.owner = owner;
      if (!to_owner.empty()) updated.owner = to_owner;
      updated.user = user_room(updated.owner);
      add("deal:" + id);
      add(updated.pipeline);
      if (kind == "deal.owner_assigned") {
        add(user_room(member(data, "from_owner_id")));
        add(updated.user);
      } else if (kind == "deal.created" || kind == "deal.won" || kind == "deal.lost") {
        add(updated.user);
      }
      team = team_of(ctx, updated.owner);
      remember(e.stream_id, s, std::move(updated));
    } else if (category == "pipeline") {
      add("pipeline:" + id);
    } else if (category == "contact") {
      auto& s = stream(ctx, e.stream_id);
      stream_rooms updated = s;
      const auto owner = member(data, "owner_id");
      const auto to_owner = member(data, "to_owner_id");
      if (!owner.empty()) updated.owner = owner;
      if (!to_owner.empty()) updated.owner = to_owner;
      add("contact:" + id);
      const auto survivor = member(data, "survivor_id");
      if (!survivor.empty()) add("contact:" + survivor);
      if (kind == "contact.owner_assigned") {
        add(user_room(member(data, "from_owner_id")));
        add(user_room(to_owner));
      }
      team = team_of(ctx, updated.owner);
      remember(e.stream_id, s, std::move(updated));
    } else if (category == "task") {
      auto& s = stream(ctx, e.stream_id);
      stream_rooms updated = s;
      const auto assignee = member(data, "assignee_id");
      const auto to_assignee = member(data, "to_assignee_id");
      if (!assignee.empty()) updated.user = user_room(assignee);
      if (!to_assignee.empty()) updated.user = user_room(to_assignee);
      if (data.HasMember("link")) updated.link = room_of_ref(data, "link");
      // A relinked task leaves the merged record's room for the survivor's.
      if (data.HasMember("from_link")) add(room_of_ref(data, "from_link"));
      add(user_room(member(data, "from_assignee_id")));
      add(updated.user);
      add(updated.link);
      remember(e.stream_id, s, std::move(updated));
    } else if (category == "activity") {
      auto& s = stream(ctx, e.stream_id);
      stream_rooms updated = s;
      if (data.HasMember("subject")) updated.link = room_of_ref(data, "subject");
      if (data.HasMember("from_subject")) add(room_of_ref(data, "from_subject"));
      add(updated.link);
      remember(e.stream_id, s, std::move(updated));
    } else if (category == "lead" || category == "company") {
      add(user_room(member(data, "owner_id")));
      add(user_room(member(data, "from_owner_id")));
      add(user_room(member(data, "to_owner_id")));
    } else if (category == "user") {
      add("user:" + id);
      if (kind == "user.registered") set_team(ctx, id, member(data, "team_id"));
      if (kind == "user.team_changed") set_team(ctx, id, member(data, "to_team_id"));
    }
    if (kind == "contact.erased" || kind == "lead.erased") forget(ctx, e.stream_id);
    if (rooms.empty()) return;

    const std::string payload = message_data(e, data);
    const bool keep = ctx.mode == apply_mode::live || !too_old(e.recorded_at);
    for (const auto& room : rooms) {
      infra::room_message m{
          room, next_seq(ctx, room), e.global_position, std::string(kind), payload, e.recorded_at,
          team};
      if (keep) pending_.push_back(m);
      if (ctx.mode == apply_mode::live && owner_.options().bus) outbox_.push_back(std::move(m));
    }
  }

  void flush(apply_context& ctx) override {
    if (!pending_.empty()) {
      std::vector<std::vector<sql::value>> rows;
      rows.reserve(pending_.size());
      for (const auto& m : pending_) {
        rows.push_back({m.room, m.seq, m.position, m.kind, m.data, micros(m.recorded_at),
                        m.team ? sql::value(*m.team) : sql::value()});
      }
      ctx.db.execute_many("INSERT INTO " + updates_ +
                              " (room, seq, position, kind, data, recorded_at, team) VALUES ($1, "
                              "$2, $3, $4, $5, $6, $7)",
                          rows);
      pending_.clear();
    }
    write_dirty(ctx,
                "INSERT INTO " + sequences_ +
                    " (room, seq) VALUES ($1, $2) ON CONFLICT (room) DO UPDATE SET seq = "
                    "excluded.seq",
                dirty_sequences_, sequences_cache_);
    if (!dirty_streams_.empty()) {
      std::vector<std::vector<sql::value>> rows;
      for (const auto& stream_id : dirty_streams_) {
        const auto& s = streams_cache_.at(stream_id);
        rows.push_back({stream_id, s.pipeline, s.user, s.link, s.owner});
      }
      ctx.db.execute_many("INSERT INTO " + streams_ +
                              " (stream_id, pipeline_room, user_room, link_room, owner_id) VALUES "
                              "($1, $2, $3, $4, $5) ON CONFLICT (stream_id) DO UPDATE SET "
                              "pipeline_room = excluded.pipeline_room, user_room = "
                              "excluded.user_room, link_room = excluded.link_room, owner_id = "
                              "excluded.owner_id",
                          rows);
      dirty_streams_.clear();
    }
    write_dirty(ctx,
                "INSERT INTO " + users_ +
                    " (user_id, team) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET team = "
                    "excluded.team",
                dirty_users_, users_cache_);
    prune(ctx);
    if (ctx.mode == apply_mode::live) trim();
  }

  void committed() override {
    if (outbox_.empty()) return;
    if (const auto& bus = owner_.options().bus) {
      // The batch is committed, and the log holds its messages: a bus that is down (Redis) costs
      // the hubs a repair from the log, never the projection a retry.
      try {
        bus->publish(outbox_);
      } catch (const std::exception& e) {
        spdlog::warn("rooms: {} room messages were not published (hubs repair from the log): {}",
                     outbox_.size(), e.what());
      }
    }
    outbox_.clear();
  }

  void discard() noexcept override {
    complete_ = false;
    pending_.clear();
    outbox_.clear();
    sequences_cache_.clear();
    dirty_sequences_.clear();
    streams_cache_.clear();
    dirty_streams_.clear();
    users_cache_.clear();
    dirty_users_.clear();
  }

 private:
  static std::int64_t micros(infra::timestamp t) { return t.time_since_epoch().count(); }

  // Upserts the entries of a key → value cache written since the last flush.
  template <class Value>
  static void write_dirty(apply_context& ctx, const std::string& upsert,
                          std::set<std::string>& dirty,
                          const std::unordered_map<std::string, Value>& cache) {
    if (dirty.empty()) return;
    std::vector<std::vector<sql::value>> rows;
    rows.reserve(dirty.size());
    for (const auto& key : dirty) rows.push_back({key, cache.at(key)});
    ctx.db.execute_many(upsert, rows);
    dirty.clear();
  }

  bool too_old(infra::timestamp t) const {
    return std::chrono::system_clock::now() - t > owner_.options().retention;
  }

  // {"stream_id":…,"version":…,"actor":…,"event":{…the event's data…}}
  // A person was erased: the room-update log keeps their updates (the rooms' sequences stay whole)
  // with every personal field erased, as a rebuild reading the log after the erasure writes them.
  void forget(apply_context& ctx, const std::string& stream_id) {
    rapidjson::StringBuffer quoted;
    rapidjson::Writer<rapidjson::StringBuffer> w(quoted);
    w.String(stream_id.data(), static_cast<rapidjson::SizeType>(stream_id.size()));
    // message_data writes the stream id first.
    const std::string prefix = "{\"stream_id\":" + std::string(quoted.GetString()) + ",";
    for (auto* messages : {&pending_, &outbox_}) {
      for (auto& m : *messages) {
        if (m.data.starts_with(prefix)) m.data = erased_message(m.kind, m.data);
      }
    }
    std::string pattern;
    for (const char c : prefix) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += '%';
    const sql::value like[] = {pattern};
    const auto rows = ctx.db.query(
        "SELECT room, seq, kind, data FROM " + updates_ + " WHERE data LIKE $1 ESCAPE '\\'", like);
    for (const auto& r : rows) {
      const auto data = r.text(3);
      auto erased = erased_message(r.text(2), data);
      if (erased == data) continue;
      const sql::value values[] = {r.text(0), r.integer(1), std::move(erased)};
      ctx.db.execute("UPDATE " + updates_ + " SET data = $3 WHERE room = $1 AND seq = $2", values);
    }
  }

  static std::string erased_message(std::string_view kind, const std::string& message) {
    rapidjson::Document doc;
    doc.Parse(message.data(), message.size());
    if (doc.HasParseError() || !doc.IsObject()) return message;
    const auto event = doc.FindMember("event");
    if (event == doc.MemberEnd() || !event->value.IsObject()) return message;
    rapidjson::StringBuffer before;
    rapidjson::Writer<rapidjson::StringBuffer> bw(before);
    event->value.Accept(bw);
    const auto after = infra::privacy::erase_personal_fields(
        kind, std::string_view(before.GetString(), before.GetSize()));
    rapidjson::Document replaced(&doc.GetAllocator());
    replaced.Parse(after.data(), after.size());
    if (replaced.HasParseError()) return message;
    event->value.CopyFrom(replaced, doc.GetAllocator());
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> ow(out);
    doc.Accept(ow);
    return std::string(out.GetString(), out.GetSize());
  }

  static std::string message_data(const infra::recorded_event& e, const rapidjson::Document&) {
    std::string actor;
    try {
      actor = infra::decode_metadata(e.metadata).actor;
    } catch (const std::exception&) {
      // Metadata never fails a projection: the message goes out without an actor.
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("stream_id");
    w.String(e.stream_id.data(), static_cast<rapidjson::SizeType>(e.stream_id.size()));
    w.Key("version");
    w.Int64(e.stream_version);
    w.Key("actor");
    if (actor.empty()) {
      w.Null();
    } else {
      w.String(actor.data(), static_cast<rapidjson::SizeType>(actor.size()));
    }
    w.Key("event");
    w.RawValue(e.data.data(), e.data.size(), rapidjson::kObjectType);
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  std::int64_t next_seq(apply_context& ctx, const std::string& room) {
    auto it = sequences_cache_.find(room);
    if (it == sequences_cache_.end()) {
      std::int64_t seq = 0;
      if (!knows_all(ctx)) {
        const sql::value key[] = {room};
        const auto rows = ctx.db.query("SELECT seq FROM " + sequences_ + " WHERE room = $1", key);
        if (!rows.empty()) seq = rows[0].integer(0);
      }
      it = sequences_cache_.emplace(room, seq).first;
    }
    dirty_sequences_.insert(room);
    return ++it->second;
  }

  stream_rooms& stream(apply_context& ctx, const std::string& stream_id) {
    auto it = streams_cache_.find(stream_id);
    if (it == streams_cache_.end()) {
      stream_rooms s;
      if (!knows_all(ctx)) {
        const sql::value key[] = {stream_id};
        const auto rows =
            ctx.db.query("SELECT pipeline_room, user_room, link_room, owner_id FROM " + streams_ +
                             " WHERE stream_id = $1",
                         key);
        if (!rows.empty()) {
          s = {rows[0].text(0), rows[0].text(1), rows[0].text(2), rows[0].text(3)};
        }
      }
      it = streams_cache_.emplace(stream_id, std::move(s)).first;
    }
    return it->second;
  }

  // The team of a user as their events so far say ("" for none, or for a user not seen).
  std::string& team_of(apply_context& ctx, const std::string& user) {
    auto it = users_cache_.find(user);
    if (it == users_cache_.end()) {
      std::string team;
      if (!user.empty() && !knows_all(ctx)) {
        const sql::value key[] = {user};
        const auto rows = ctx.db.query("SELECT team FROM " + users_ + " WHERE user_id = $1", key);
        if (!rows.empty()) team = rows[0].text(0);
      }
      it = users_cache_.emplace(user, std::move(team)).first;
    }
    return it->second;
  }

  void set_team(apply_context& ctx, const std::string& user, std::string team) {
    auto& current = team_of(ctx, user);
    if (current == team) return;
    current = std::move(team);
    dirty_users_.insert(user);
  }

  void remember(const std::string& stream_id, stream_rooms& current, stream_rooms updated) {
    if (current == updated) return;
    current = std::move(updated);
    dirty_streams_.insert(stream_id);
  }

  // Drops log entries past the retention, at most once a minute.
  void prune(apply_context& ctx) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_prune_) return;
    next_prune_ = now + std::chrono::minutes{1};
    const auto horizon = std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now() - owner_.options().retention);
    const sql::value params[] = {micros(horizon)};
    ctx.db.execute("DELETE FROM " + updates_ + " WHERE recorded_at < $1", params);
  }

  // Keeps a live writer's caches bounded; after a flush nothing is dirty, so dropping them only
  // costs a lookup later: from then on a room or stream missing from the cache may have a row.
  void trim() {
    if (sequences_cache_.size() > owner_.options().max_cached) {
      sequences_cache_.clear();
      complete_ = false;
    }
    if (streams_cache_.size() > owner_.options().max_cached) {
      streams_cache_.clear();
      complete_ = false;
    }
    if (users_cache_.size() > owner_.options().max_cached) {
      users_cache_.clear();
      complete_ = false;
    }
  }

  // Whether a room or stream missing from the caches has no row: the writer opened its
  // generation empty and has dropped nothing it wrote since.
  bool knows_all(const apply_context& ctx) const { return ctx.fresh && complete_; }

  const rooms_projection& owner_;
  std::string updates_;
  std::string sequences_;
  std::string streams_;
  std::string users_;
  std::vector<infra::room_message> pending_;
  std::vector<infra::room_message> outbox_;
  std::unordered_map<std::string, std::int64_t> sequences_cache_;
  std::set<std::string> dirty_sequences_;
  std::unordered_map<std::string, stream_rooms> streams_cache_;
  std::set<std::string> dirty_streams_;
  std::unordered_map<std::string, std::string> users_cache_;  // user id → team ("" for none)
  std::set<std::string> dirty_users_;
  std::chrono::steady_clock::time_point next_prune_{};
  bool complete_ = true;  // the caches hold every room and stream written (see knows_all)
};

}  // namespace

rooms_projection::rooms_projection(rooms_options options) : options_(std::move(options)) {}

std::vector<std::string> rooms_projection::relations() const {
  return {std::string(kRoomUpdates), std::string(kSequences), std::string(kStreams),
          std::string(kUsers)};
}

void rooms_projection::create(sql::session& db, const relation_names& names) const {
  const auto updates = sql::identifier(names(kRoomUpdates));
  db.exec_script(
      "CREATE TABLE " + updates +
      " (room TEXT NOT NULL, seq BIGINT NOT NULL, position BIGINT NOT NULL, kind TEXT "
      "NOT NULL, data TEXT NOT NULL, recorded_at BIGINT NOT NULL, team TEXT, PRIMARY KEY "
      "(room, seq))");
  db.exec_script("CREATE INDEX " + sql::identifier(names(kRoomUpdates) + "_by_position") + " ON " +
                 updates + " (room, position)");
  db.exec_script("CREATE INDEX " + sql::identifier(names(kRoomUpdates) + "_by_time") + " ON " +
                 updates + " (recorded_at)");
  db.exec_script("CREATE TABLE " + sql::identifier(names(kSequences)) +
                 " (room TEXT PRIMARY KEY, seq BIGINT NOT NULL)");
  db.exec_script("CREATE TABLE " + sql::identifier(names(kStreams)) +
                 " (stream_id TEXT PRIMARY KEY, pipeline_room TEXT NOT NULL, user_room TEXT NOT "
                 "NULL, link_room TEXT NOT NULL, owner_id TEXT NOT NULL)");
  db.exec_script("CREATE TABLE " + sql::identifier(names(kUsers)) +
                 " (user_id TEXT PRIMARY KEY, team TEXT NOT NULL)");
}

bool rooms_projection::handles(std::string_view type) const {
  const auto category = type.substr(0, type.find('.'));
  return category == "deal" || category == "pipeline" || category == "contact" ||
         category == "task" || category == "activity" || category == "lead" ||
         category == "company" || category == "user";
}

std::unique_ptr<projection_writer> rooms_projection::open(const relation_names& names) const {
  return std::make_unique<rooms_writer>(*this, names);
}

}  // namespace realmkit::projections

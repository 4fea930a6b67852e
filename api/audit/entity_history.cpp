#include "api/audit/entity_history.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <future>
#include <map>
#include <tuple>
#include <type_traits>

#include "domain/activity/activity_state.hpp"
#include "domain/company/company_state.hpp"
#include "domain/contact/contact_state.hpp"
#include "domain/deal/deal_state.hpp"
#include "domain/lead/lead_state.hpp"
#include "domain/pipeline/pipeline_state.hpp"
#include "domain/task/task_state.hpp"
#include "domain/team/team_state.hpp"
#include "domain/user/user_state.hpp"
#include "infra/event_codec.hpp"

namespace realmkit::api::audit {
namespace {

using namespace domain;

using aggregates =
    std::tuple<user_aggregate, team_aggregate, company_aggregate, contact_aggregate, lead_aggregate,
               pipeline_aggregate, deal_aggregate, activity_aggregate, task_aggregate>;

// Calls f(std::type_identity<Aggregate>{}) for the aggregate of this category; false when none.
template <class F>
bool with_aggregate(std::string_view category, F&& f) {
  return []<class... A>(std::string_view c, F& fn, std::type_identity<std::tuple<A...>>) {
    return ((c == A::kCategory ? (fn(std::type_identity<A>{}), true) : false) || ...);
  }(category, f, std::type_identity<aggregates>{});
}

std::string_view category_of(std::string_view stream_id) {
  const auto dash = stream_id.find('-');
  if (dash == std::string_view::npos || dash + 1 == stream_id.size()) return {};
  return stream_id.substr(0, dash);
}

constexpr std::string_view kRedacted = "[redacted]";

// An auditor reads who changed a password and when, never the hash.
template <class State>
std::string shown(const State& s) {
  if constexpr (std::is_same_v<State, user_state>) {
    if (s.password_hash.empty()) return infra::to_json(s);
    auto copy = s;
    copy.password_hash = kRedacted;
    return infra::to_json(copy);
  } else {
    return infra::to_json(s);
  }
}

std::vector<infra::recorded_event> whole_stream(infra::event_store& store,
                                                std::string_view stream_id) {
  constexpr std::size_t kBatch = 10'000;
  std::vector<infra::recorded_event> out;
  for (std::int64_t from = 1;;) {
    auto part = store.read_stream(stream_id, from, kBatch);
    const auto n = part.size();
    if (out.empty()) {
      out = std::move(part);
    } else {
      out.insert(out.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
    }
    if (n < kBatch) return out;
    from = out.back().stream_version + 1;
  }
}

bool is_money(const rapidjson::Value& v) {
  return v.IsObject() && v.MemberCount() == 2 && v.HasMember("amount_minor") &&
         v.HasMember("currency");
}

std::string text_of(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

void flatten(const rapidjson::Value& v, const std::string& path,
             std::map<std::string, std::string>& out) {
  if (v.IsObject() && !is_money(v) && v.MemberCount() > 0) {
    for (const auto& m : v.GetObject()) {
      const std::string name(m.name.GetString(), m.name.GetStringLength());
      flatten(m.value, path.empty() ? name : path + "." + name, out);
    }
    return;
  }
  out[path] = text_of(v);
}

std::map<std::string, std::string> flat(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  std::map<std::string, std::string> out;
  if (!doc.HasParseError()) flatten(doc, {}, out);
  return out;
}

}  // namespace

std::optional<std::string> entity_kind(std::string_view stream_id) {
  std::optional<std::string> kind;
  with_aggregate(category_of(stream_id),
                 [&]<class A>(std::type_identity<A>) { kind = std::string(A::kCategory); });
  return kind;
}

std::vector<field_change> diff_json(std::string_view before, std::string_view after) {
  const auto a = flat(before);
  const auto b = flat(after);
  std::vector<field_change> out;
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
      if (ia->second != "null") out.push_back({ia->first, ia->second, "null"});
      ++ia;
    } else if (ia == a.end() || ib->first < ia->first) {
      if (ib->second != "null") out.push_back({ib->first, "null", ib->second});
      ++ib;
    } else {
      if (ia->second != ib->second) out.push_back({ia->first, ia->second, ib->second});
      ++ia;
      ++ib;
    }
  }
  return out;
}

std::optional<entity_snapshot> replay_entity(infra::event_store& store, std::string_view stream_id,
                                             const replay_bound& bound) {
  std::optional<entity_snapshot> out;
  with_aggregate(category_of(stream_id), [&]<class A>(std::type_identity<A>) {
    entity_snapshot snap;
    snap.stream_id = std::string(stream_id);
    snap.kind = std::string(A::kCategory);
    typename A::state state{};
    const auto events = whole_stream(store, stream_id);
    snap.stream_version = events.empty() ? 0 : events.back().stream_version;
    for (const auto& e : events) {
      if (bound.version && e.stream_version > *bound.version) break;
      if (bound.as_of && e.recorded_at > *bound.as_of) break;
      state = evolve(std::move(state), infra::decode_event<typename A::event>(e));
      snap.version = e.stream_version;
      snap.position = e.global_position;
      snap.recorded_at = e.recorded_at;
    }
    snap.exists = state.exists;
    snap.state = shown(state);
    out = std::move(snap);
  });
  return out;
}

std::optional<std::vector<change_entry>> entity_changes(infra::event_store& store,
                                                        std::string_view stream_id,
                                                        std::int64_t after_version,
                                                        std::size_t limit) {
  std::optional<std::vector<change_entry>> out;
  with_aggregate(category_of(stream_id), [&]<class A>(std::type_identity<A>) {
    std::vector<change_entry> entries;
    typename A::state state{};
    std::string before = shown(state);
    for (auto& e : whole_stream(store, stream_id)) {
      if (entries.size() >= limit) break;
      auto next = evolve(state, infra::decode_event<typename A::event>(e));
      if (e.stream_version <= after_version) {
        state = std::move(next);
        continue;
      }
      std::string after = shown(next);
      change_entry entry;
      entry.changes = diff_json(before, after);
      if constexpr (std::is_same_v<A, user_aggregate>) {
        // Both sides show as redacted, so the diff alone would hide a changed password.
        if (state.password_hash != next.password_hash && !next.password_hash.empty() &&
            !state.password_hash.empty()) {
          const std::string r = "\"" + std::string(kRedacted) + "\"";
          entry.changes.push_back({"password_hash", r, r});
        }
      }
      entry.event = std::move(e);
      entries.push_back(std::move(entry));
      state = std::move(next);
      before = std::move(after);
    }
    out = std::move(entries);
  });
  return out;
}

// ---- log_replayer ----

namespace {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <class A>
using state_map = std::unordered_map<std::string, typename A::state, string_hash, std::equal_to<>>;

template <class T>
struct maps_of;
template <class... A>
struct maps_of<std::tuple<A...>> {
  using type = std::tuple<state_map<A>...>;
};

}  // namespace

struct log_replayer::shard {
  maps_of<aggregates>::type maps;
  std::uint64_t applied = 0;
  std::uint64_t skipped = 0;

  void apply(const infra::recorded_event& event) {
    const auto found =
        with_aggregate(category_of(event.stream_id), [&]<class A>(std::type_identity<A>) {
          auto& map = std::get<state_map<A>>(maps);
          auto it = map.find(std::string_view(event.stream_id));
          if (it == map.end()) it = map.emplace(event.stream_id, typename A::state{}).first;
          it->second = evolve(std::move(it->second), infra::decode_event<typename A::event>(event));
        });
    if (found) {
      ++applied;
    } else {
      ++skipped;
    }
  }
};

// Shards are numbered in a byte (apply's owner table): far more than a replay has cores.
log_replayer::log_replayer(std::size_t threads)
    : shards_(std::clamp<std::size_t>(threads, 1, 255)) {}
log_replayer::~log_replayer() = default;

std::size_t log_replayer::shard_index(std::string_view stream_id) const {
  return shards_.size() == 1 ? 0 : string_hash{}(stream_id) % shards_.size();
}

void log_replayer::apply(const infra::recorded_event& event) {
  shards_[shard_index(event.stream_id)].apply(event);
}

void log_replayer::apply(std::span<const infra::recorded_event> events) {
  if (shards_.size() == 1) {
    for (const auto& e : events) shards_.front().apply(e);
    return;
  }
  // Each shard folds its own streams, in log order, on its own thread: a stream's events all
  // land in one shard, so no state is shared and each stream's order is kept. Each event's shard
  // is worked out once, here, not by every shard.
  std::vector<std::uint8_t> owner(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    owner[i] = static_cast<std::uint8_t>(shard_index(events[i].stream_id));
  }
  const auto fold = [&](std::size_t index) {
    auto& own = shards_[index];
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (owner[i] == index) own.apply(events[i]);
    }
  };
  std::vector<std::future<void>> others;
  others.reserve(shards_.size() - 1);
  for (std::size_t i = 1; i < shards_.size(); ++i) {
    others.push_back(std::async(std::launch::async, fold, i));
  }
  fold(0);
  for (auto& f : others) f.get();
}

std::uint64_t log_replayer::applied() const {
  std::uint64_t n = 0;
  for (const auto& s : shards_) n += s.applied;
  return n;
}

std::uint64_t log_replayer::skipped() const {
  std::uint64_t n = 0;
  for (const auto& s : shards_) n += s.skipped;
  return n;
}

std::size_t log_replayer::streams() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    n += std::apply([](const auto&... m) { return (m.size() + ...); }, s.maps);
  }
  return n;
}

std::optional<std::string> log_replayer::state_json(std::string_view stream_id) const {
  std::optional<std::string> out;
  const auto& own = shards_[shard_index(stream_id)];
  with_aggregate(category_of(stream_id), [&]<class A>(std::type_identity<A>) {
    const auto& map = std::get<state_map<A>>(own.maps);
    if (const auto it = map.find(stream_id); it != map.end()) out = shown(it->second);
  });
  return out;
}

}  // namespace realmkit::api::audit

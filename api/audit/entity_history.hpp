// An entity's history from its own stream, folded with the domain's evolve: its state as of a
// version or a time, and what each event changed field by field (the diff of consecutive states,
// so every aggregate's every field is covered without a table per event type).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "infra/event_store.hpp"

namespace realmkit::api::audit {

// The aggregate kind of a stream ("deal" for "deal-0193…"), or nullopt when the stream is not one
// of an aggregate (user_email reservations, unknown categories).
std::optional<std::string> entity_kind(std::string_view stream_id);

struct replay_bound {
  std::optional<std::int64_t> version;    // up to and including this stream version
  std::optional<infra::timestamp> as_of;  // events recorded at or before this time
};

struct entity_snapshot {
  std::string stream_id;
  std::string kind;
  std::int64_t version = 0;   // of the last event folded (0: none)
  std::int64_t position = 0;  // global position of that event
  std::optional<infra::timestamp> recorded_at;
  std::int64_t stream_version = 0;  // the stream's current version, for context
  std::string state;                // the folded state as JSON (secrets redacted)
  bool exists = false;
};

// The state of an entity stream folded up to the bound; nullopt when the stream is not an
// aggregate's. A stream without events folds to the initial state at version 0.
std::optional<entity_snapshot> replay_entity(infra::event_store& store, std::string_view stream_id,
                                             const replay_bound& bound);

struct field_change {
  std::string field;  // "value", "stages", "team_id": a path of nested members joined by "."
  std::string from;   // JSON texts; "null" when the field was absent or empty
  std::string to;
};

struct change_entry {
  infra::recorded_event event;  // data and metadata as stored
  std::vector<field_change> changes;
};

// What each event of the stream changed, for events with stream_version > after_version, at most
// `limit`. Events before it are folded but not reported. nullopt: not an aggregate's stream.
std::optional<std::vector<change_entry>> entity_changes(infra::event_store& store,
                                                        std::string_view stream_id,
                                                        std::int64_t after_version,
                                                        std::size_t limit);

// The differences between two JSON object texts, by field path. Money ({amount_minor,
// currency}) and arrays are compared whole, other objects member by member.
std::vector<field_change> diff_json(std::string_view before, std::string_view after);

// Folds every aggregate stream of the log it is fed, in memory: the full-log replay of the CLI
// and the benchmark. Events of streams that are not an aggregate's are counted and skipped. With
// several threads, the streams are split among them by a hash of their id, and a page of events
// is folded by all of them at once.
// Folding is most of a whole-log replay's work: `realmkit replay --all` shares it among this many
// threads (the log is read ahead on others).
inline constexpr std::size_t kReplayThreads = 2;

class log_replayer {
 public:
  explicit log_replayer(std::size_t threads = 1);
  ~log_replayer();
  log_replayer(const log_replayer&) = delete;
  log_replayer& operator=(const log_replayer&) = delete;

  void apply(const infra::recorded_event& event);
  // A page of consecutive events of the log, in order.
  void apply(std::span<const infra::recorded_event> events);
  std::size_t streams() const;
  std::uint64_t applied() const;
  std::uint64_t skipped() const;
  // The folded state of one stream as JSON, or nullopt when no event of it was applied.
  std::optional<std::string> state_json(std::string_view stream_id) const;

 private:
  struct shard;
  std::size_t shard_index(std::string_view stream_id) const;
  std::vector<shard> shards_;
};

}  // namespace realmkit::api::audit

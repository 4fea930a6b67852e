// The one generic command path: load (fold the stream, from a cache of recent states) → decide →
// append with the expected version; no events, no append; bounded retry on a version conflict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "commands/aggregate_cache.hpp"
#include "domain/common/types.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "infra/event_store.hpp"
#include "infra/ids.hpp"

namespace realmkit::commands {

// Who, when, why and under which key a command is issued. The API fills it from the request.
struct command_metadata {
  domain::user_id actor;
  domain::timestamp now{};
  std::string correlation_id;
  std::string causation_id;
  std::string idempotency_key;          // empty: the command is not idempotent by key
  std::string idempotency_fingerprint;  // hash of the request, so a re-used key is detected
  std::string ip;

  domain::command_context context() const { return {actor, now}; }
};

// The answer to an accepted command: the stream written, its version after the command and the
// global position to wait for (min_position) when reading the result back.
struct command_result {
  std::string stream_id;
  std::int64_t version = 0;
  std::int64_t position = 0;
  bool replayed = false;  // answered from an earlier identical request
  std::vector<infra::stream_append_result>
      streams;  // every stream written, for multi-stream commands
};

// A command either succeeds or is rejected with a business reason (a value, not an exception).
// Store failures other than a version conflict propagate as infra::store_error.
class outcome {
 public:
  outcome(command_result r) : value_(std::move(r)) {}
  outcome(domain::rejection r) : value_(std::move(r)) {}
  bool ok() const { return value_.index() == 0; }
  const command_result& result() const { return std::get<0>(value_); }
  const domain::rejection& error() const { return std::get<1>(value_); }
  // For conflicts: the stream's version the caller should have expected.
  std::optional<std::int64_t> current_version;

 private:
  std::variant<command_result, domain::rejection> value_;
};

template <class Aggregate>
std::string stream_id_of(std::string_view aggregate_id) {
  std::string s(Aggregate::kCategory);
  s.push_back('-');
  s.append(aggregate_id);
  return s;
}

// An aggregate's state as loaded, with the version it was folded up to.
template <class State>
struct loaded {
  State state{};
  std::int64_t version = 0;
  std::int64_t last_position = 0;
};

class command_handler;

// The aggregates one command reads and the events it decides, committed together in one atomic
// append. Every stream written is checked at commit against the version it was loaded at: one
// written by someone else since fails the whole unit with a conflict, and the command runs again
// from a fresh load. Streams only read (a deal's pipeline) are not locked: a decision may rest on a
// state that changes a moment later, as in any CRM.
class unit_of_work {
 public:
  unit_of_work(command_handler& handler, const command_metadata& meta, bool fresh)
      : handler_(handler), meta_(meta), fresh_(fresh) {}

  template <class Aggregate>
  const loaded<typename Aggregate::state>& load(std::string_view aggregate_id);

  // Queues events for an aggregate; they are folded into its loaded state at once, so later
  // decisions in the same unit see them.
  template <class Aggregate>
  void record(std::string_view aggregate_id, std::vector<typename Aggregate::event> events);

  // The caller's expected version of an aggregate (If-Match); a mismatch is a conflict rejection,
  // never retried.
  void expect(std::string stream_id, std::int64_t version) {
    client_expectations_.emplace_back(std::move(stream_id), version);
  }

  const command_metadata& metadata() const { return meta_; }

 private:
  friend class command_handler;
  struct entry {
    std::string stream_id;
    std::shared_ptr<void> state;  // loaded<State> of the aggregate, owned by this unit
    std::int64_t loaded_version = 0;
    std::int64_t loaded_position = 0;  // of the stream's last event as loaded
    std::vector<infra::new_event> pending;
    // Publishes the folded state to the cache once the append has committed.
    std::function<void(aggregate_cache&, std::int64_t version, std::int64_t position)> publish;
  };
  entry* find(const std::string& stream_id);

  command_handler& handler_;
  const command_metadata& meta_;
  const bool fresh_;  // bypass the cache: read every stream from the store
  std::vector<entry> entries_;
  std::vector<std::pair<std::string, std::int64_t>> client_expectations_;
  std::string primary_stream_;
};

struct command_handler_options {
  std::size_t cache_capacity = 10'000;  // aggregate states kept in memory
  int max_conflict_retries = 3;         // for commands without a client expected version
};

class command_handler {
 public:
  explicit command_handler(infra::event_store& store, command_handler_options options = {});

  // Runs `decide` against a unit of work and commits what it records. `decide` returns a rejection
  // to refuse the command, or nullopt after recording events (or none, for a no-op). On a version
  // conflict with no client expectation the whole function runs again, at most
  // max_conflict_retries times. With an idempotency key, a key seen before returns the first
  // result without running `decide`.
  using decide_fn = std::function<std::optional<domain::rejection>(unit_of_work&)>;
  outcome run(const command_metadata& meta, const decide_fn& decide);

  // The single-aggregate case: load one aggregate, call decide(state), record what it returns.
  // expected_version is the caller's If-Match (nullopt: none).
  template <class Aggregate, class Decide>
  outcome execute(std::string_view aggregate_id, const command_metadata& meta,
                  std::optional<std::int64_t> expected_version, Decide&& decide);

  // The current state of one aggregate, caught up with the store (read-your-writes).
  template <class Aggregate>
  loaded<typename Aggregate::state> load(std::string_view aggregate_id) {
    return load_stream<Aggregate>(stream_id_of<Aggregate>(aggregate_id), true);
  }

  infra::event_store& store() { return store_; }
  const aggregate_cache& cache() const { return cache_; }

 private:
  friend class unit_of_work;
  // From the cache when present and !catch_up; otherwise the cached state (if any) caught up with
  // the events stored after it.
  template <class Aggregate>
  loaded<typename Aggregate::state> load_stream(const std::string& stream_id, bool catch_up);

  infra::event_store& store_;
  command_handler_options options_;
  aggregate_cache cache_;
};

// ---- templates ----

template <class Aggregate>
loaded<typename Aggregate::state> command_handler::load_stream(const std::string& stream_id,
                                                               bool catch_up) {
  using loaded_type = loaded<typename Aggregate::state>;
  loaded_type result;
  if (auto hit = cache_.get<loaded_type>(stream_id)) {
    result = *hit;
    if (!catch_up) return result;
  }
  auto events = store_.read_stream(stream_id, result.version + 1);
  if (events.empty()) return result;
  for (const auto& recorded : events) {
    if (recorded.stream_version != result.version + 1) {
      throw infra::corrupt_event("stream " + stream_id + " jumps from version " +
                                 std::to_string(result.version) + " to " +
                                 std::to_string(recorded.stream_version));
    }
    result.state =
        evolve(std::move(result.state), infra::decode_event<typename Aggregate::event>(recorded));
    result.version = recorded.stream_version;
    result.last_position = recorded.global_position;
  }
  cache_.put(stream_id, std::make_shared<const loaded_type>(result), result.version);
  return result;
}

template <class Aggregate>
const loaded<typename Aggregate::state>& unit_of_work::load(std::string_view aggregate_id) {
  using loaded_type = loaded<typename Aggregate::state>;
  auto stream = stream_id_of<Aggregate>(aggregate_id);
  if (auto* e = find(stream)) return *static_cast<loaded_type*>(e->state.get());
  auto state = std::make_shared<loaded_type>(handler_.load_stream<Aggregate>(stream, fresh_));
  entry e;
  e.stream_id = stream;
  e.loaded_version = state->version;
  e.loaded_position = state->last_position;
  e.state = state;
  e.publish = [stream, state](aggregate_cache& cache, std::int64_t version, std::int64_t position) {
    auto copy = std::make_shared<loaded_type>(*state);
    copy->version = version;
    copy->last_position = position;
    cache.put(stream, std::shared_ptr<const loaded_type>(std::move(copy)), version);
  };
  entries_.push_back(std::move(e));
  if (primary_stream_.empty()) primary_stream_ = stream;
  return *state;
}

template <class Aggregate>
void unit_of_work::record(std::string_view aggregate_id,
                          std::vector<typename Aggregate::event> events) {
  using loaded_type = loaded<typename Aggregate::state>;
  const auto stream = stream_id_of<Aggregate>(aggregate_id);
  if (!find(stream)) load<Aggregate>(aggregate_id);
  auto* e = find(stream);
  auto* state = static_cast<loaded_type*>(e->state.get());
  const auto metadata = infra::encode_metadata(
      infra::event_metadata{meta_.actor.value, meta_.correlation_id, meta_.causation_id,
                            meta_.idempotency_key, meta_.ip});
  for (auto& event : events) {
    e->pending.push_back(infra::encode_event(event, infra::new_uuid_v7(), metadata));
    state->state = evolve(std::move(state->state), event);
  }
}

template <class Aggregate, class Decide>
outcome command_handler::execute(std::string_view aggregate_id, const command_metadata& meta,
                                 std::optional<std::int64_t> expected_version, Decide&& decide) {
  const std::string id(aggregate_id);
  return run(meta, [&](unit_of_work& uow) -> std::optional<domain::rejection> {
    const auto& current = uow.load<Aggregate>(id);
    if (expected_version) uow.expect(stream_id_of<Aggregate>(id), *expected_version);
    auto d = decide(current.state);
    if (!d.ok()) return d.error();
    if (!d.events().empty()) uow.record<Aggregate>(id, std::move(d.events()));
    return std::nullopt;
  });
}

}  // namespace realmkit::commands

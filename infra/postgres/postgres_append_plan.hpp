// Deciding a group-commit batch in memory: each append of the batch is checked (idempotency key,
// event-id retry, expected versions) against what the database holds plus the appends accepted
// before it in the same batch, and gets positions and versions. No I/O: the writer loads the
// state while holding the position lock and writes what the plan accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "infra/append_result_codec.hpp"
#include "infra/event_store.hpp"

namespace realmkit::infra::postgres_detail {

// One append of a batch. It points into the caller's arguments, which outlive the batch because
// append() blocks until its batch is settled.
struct append_request {
  std::span<const stream_write> writes;
  const std::optional<idempotency_key>* key = nullptr;
};

struct stored_event_ref {
  std::string stream_id;
  std::int64_t stream_version = 0;
  std::int64_t global_position = 0;
  std::string type;
};

struct stored_key {
  std::string fingerprint;
  append_result result;
};

// What the database holds for the streams, event ids and keys a batch mentions.
struct batch_state {
  std::int64_t last_position = 0;
  chain_hash last_hash{};  // the hash-chain link of the event at last_position
  std::unordered_map<std::string, std::int64_t> stream_versions;
  std::unordered_map<std::string, stored_event_ref> events;        // by event id
  std::map<std::pair<std::string, std::string>, stored_key> keys;  // by (actor, key)
};

struct planned_event {
  std::int64_t global_position;
  std::int64_t stream_version;
  const std::string* stream_id;
  const new_event* event;
};

struct planned_key {
  const idempotency_key* key;
  std::string result_json;
};

struct append_outcome {
  std::optional<append_result> result;  // accepted (written by the batch) or replayed
  std::exception_ptr error;             // refused: nothing of this append is written
};

class append_plan {
 public:
  append_plan(batch_state state, std::span<const append_request> requests);

  // One per request, in request order.
  const std::vector<append_outcome>& outcomes() const { return outcomes_; }
  // True when no append of the batch writes anything.
  bool empty() const { return events_.empty(); }
  std::int64_t first_position() const { return first_position_; }
  std::int64_t last_position() const { return state_.last_position; }
  // The link of the event before the batch's first: the plan does not compute hashes.
  const chain_hash& previous_hash() const { return state_.last_hash; }
  std::size_t written_appends() const { return written_appends_; }

  const std::vector<planned_event>& events() const { return events_; }
  // The final version of every stream the batch writes to.
  const std::map<std::string, std::int64_t>& stream_versions() const { return written_streams_; }
  const std::vector<planned_key>& keys() const { return keys_; }

 private:
  append_outcome decide(const append_request& request);
  append_outcome replay(const append_request& request) const;
  append_result accept(const append_request& request);
  std::int64_t version_of(const std::string& stream_id) const;

  batch_state state_;
  std::int64_t first_position_;
  std::size_t written_appends_ = 0;
  std::vector<append_outcome> outcomes_;
  std::vector<planned_event> events_;
  std::map<std::string, std::int64_t> written_streams_;
  std::vector<planned_key> keys_;
};

// Checks what validate_writes leaves to the backend: every text the database will store is valid
// UTF-8 (PostgreSQL refuses anything else, which would fail the whole batch), and the idempotency
// key is well formed. Throws invalid_append.
void validate_for_postgres(std::span<const stream_write> writes,
                           const std::optional<idempotency_key>& key);

}  // namespace realmkit::infra::postgres_detail

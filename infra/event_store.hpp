// The event store: the source of truth. One interface, two implementations (sqlite/, postgres/),
// one contract suite (tests/infra/event_store_contract.cpp) run against both.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace realmkit::infra {

using timestamp = std::chrono::sys_time<std::chrono::microseconds>;
// SHA-256 of an event's link in the log's hash chain (infra/audit/event_chain.hpp).
using chain_hash = std::array<std::uint8_t, 32>;

// An event to append. `data` and `metadata` are JSON object texts produced by the codec
// (infra/event_codec.hpp); the store checks they are JSON objects but never interprets them.
struct new_event {
  std::string event_id;  // unique across the store; a re-sent event id is how a retry is recognised
  std::string type;      // stable versioned name, e.g. "deal.stage_moved.v1"
  int schema_version = 1;
  std::string data;      // JSON object
  std::string metadata;  // JSON object: actor, correlation_id, causation_id, idempotency_key, ip
};

// An event as stored: the envelope of ARCHITECTURE §5.
struct recorded_event {
  std::string event_id;
  std::string stream_id;
  std::int64_t stream_version = 0;   // 1 for the first event of a stream, contiguous
  std::int64_t global_position = 0;  // 1 for the first event of the store, contiguous, commit order
  std::string type;
  int schema_version = 1;
  timestamp recorded_at{};
  std::string data;
  std::string metadata;
  // The event's link in the hash chain, as stored; nullopt where a store keeps none (a copy of the
  // log, such as a projector's Kafka feed) or a row lost it.
  std::optional<chain_hash> hash;
};

// What the writer expects the stream's current version to be. nullopt: any version;
// kNoStream (0): the stream must not exist yet; N > 0: exactly N events exist.
using expected_version = std::optional<std::int64_t>;
inline constexpr std::int64_t kNoStream = 0;

struct stream_write {
  std::string stream_id;
  expected_version expected;
  std::vector<new_event> events;
};

// An idempotency key is scoped to the actor that sent it. The fingerprint (a hash of the request)
// lets a re-used key with a different request be refused instead of silently answered.
struct idempotency_key {
  std::string actor;
  std::string key;
  std::string fingerprint;
};

struct stream_append_result {
  std::string stream_id;
  std::int64_t version = 0;        // the stream's version after the append
  std::int64_t last_position = 0;  // global position of the stream's last appended event (0: none)
};

struct append_result {
  std::vector<stream_append_result> streams;  // in the order of the writes
  std::int64_t position = 0;                  // highest global position written (0: nothing)
  bool replayed =
      false;  // true when answered from an earlier append (idempotency key or event ids)
};

// Errors. Business rejections never reach the store; these are the store's own refusals and
// failures, translated to problem+json at the edge.
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The stream is not at the expected version: nothing was written.
class wrong_expected_version final : public store_error {
 public:
  wrong_expected_version(std::string stream_id, expected_version expected, std::int64_t actual);
  const std::string& stream_id() const { return stream_id_; }
  expected_version expected() const { return expected_; }
  std::int64_t actual() const { return actual_; }

 private:
  std::string stream_id_;
  expected_version expected_;
  std::int64_t actual_;
};

// The same idempotency key was used by the same actor for a different request.
class idempotency_key_reused final : public store_error {
 public:
  using store_error::store_error;
};

// The write itself is malformed (empty stream id, payload over the limit, data not a JSON object,
// an event id already used by a different event): nothing was written.
class invalid_append final : public store_error {
 public:
  invalid_append(std::string field, const std::string& what)
      : store_error(what), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// A stored row that cannot be read back as an event (missing columns, bad JSON, unknown type when
// decoding): readers stop loudly here rather than skip it.
class corrupt_event final : public store_error {
 public:
  using store_error::store_error;
};

// The backend is unreachable or failed mid-operation; the append may be retried.
class store_unavailable final : public store_error {
 public:
  using store_error::store_error;
};

inline constexpr std::size_t kMaxEventDataBytes = 1 << 20;       // 1 MiB per event's data
inline constexpr std::size_t kMaxEventMetadataBytes = 16 << 10;  // 16 KiB per event's metadata
inline constexpr std::size_t kMaxEventsPerAppend = 1000;

// Checks a batch of writes against the limits above and the envelope rules; throws invalid_append.
// Both backends call it before touching the database, so both refuse the same inputs.
void validate_writes(std::span<const stream_write> writes);

// A live subscription; stops (and joins its thread) when destroyed.
class subscription {
 public:
  virtual ~subscription() = default;
  // The position of the last event handed to the handler.
  virtual std::int64_t position() const = 0;
};

using event_handler = std::function<void(const recorded_event&)>;
// Called once, from the subscription's thread, if reading fails or the handler throws; the
// subscription has stopped by then.
using error_handler = std::function<void(std::exception_ptr)>;

class event_store {
 public:
  virtual ~event_store() = default;

  // Appends to one or more streams atomically: every expected version holds and every event is
  // written, or nothing is. With an idempotency key, a key seen before (same actor) returns the
  // first result and writes nothing. Events whose ids are all already stored in that stream in
  // that order are a retry: the original result comes back with replayed = true.
  virtual append_result append(std::span<const stream_write> writes,
                               const std::optional<idempotency_key>& key) = 0;
  append_result append(const stream_write& write,
                       const std::optional<idempotency_key>& key = std::nullopt) {
    return append(std::span<const stream_write>(&write, 1), key);
  }

  // The result of an earlier append under this key, if any. Throws idempotency_key_reused when the
  // fingerprint differs.
  virtual std::optional<append_result> find_idempotent(const idempotency_key& key) = 0;

  // Events of one stream with stream_version >= from_version, in order, at most max.
  virtual std::vector<recorded_event> read_stream(std::string_view stream_id,
                                                  std::int64_t from_version = 1,
                                                  std::size_t max = 100'000) = 0;
  // The stream's current version (0 when it does not exist).
  virtual std::int64_t stream_version(std::string_view stream_id) = 0;

  // Events with global_position > after_position, in global order, at most max. Never skips an
  // event: a later call returns only events with higher positions than any returned before.
  virtual std::vector<recorded_event> read_all(std::int64_t after_position, std::size_t max) = 0;
  // How many read_all calls the store serves well at once: long scans read that many pages ahead
  // in parallel (log_pages). PostgreSQL's readers are server processes, so several overlap;
  // SQLite's share the process's CPU, and two at once only cost more of it.
  virtual std::size_t concurrent_reads() { return 1; }
  // The highest committed global position (0 for an empty store).
  virtual std::int64_t head_position() = 0;

  // Blocks until head_position() may exceed `position` or the timeout passes. Implementations wake
  // on their own appends at once and on other processes' appends within a bounded delay.
  virtual void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) = 0;

  // Catch up from after_position, then go live: the handler sees every event after it exactly once,
  // in global order, on the subscription's own thread.
  [[nodiscard]] virtual std::unique_ptr<subscription> subscribe_all(std::int64_t after_position,
                                                                    event_handler on_event,
                                                                    error_handler on_error);
};

}  // namespace realmkit::infra

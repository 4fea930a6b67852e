// Row mapping for the SQLite event store: decoding an events row (refusing corrupt ones) and the
// JSON form of an append result kept with an idempotency key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "infra/append_result_codec.hpp"
#include "infra/event_store.hpp"
#include "infra/sqlite/sqlite_connection.hpp"

namespace realmkit::infra::sqlite {

// The column list every event query selects, in the order decode_event reads it.
#define REALMKIT_SQLITE_EVENT_COLUMNS                                                         \
  "global_position, event_id, stream_id, stream_version, type, schema_version, recorded_at, " \
  "data, metadata, hash"

// Decodes the current row of a query selecting REALMKIT_SQLITE_EVENT_COLUMNS. Throws corrupt_event,
// naming the global position and the column, when a column is missing, of the wrong type or out
// of range, or when data or metadata is not a JSON object.
recorded_event decode_event(const query& row);

// Queries both the writer and the readers run.
// The highest committed global position (0 for an empty store).
std::int64_t read_head(connection& db);
// The highest committed global position and its link in the hash chain: the genesis hash for an
// empty store, and also for a head whose hash is missing (the verifier reports that link).
struct chain_head {
  std::int64_t position = 0;
  chain_hash hash{};
};
chain_head read_chain_head(connection& db);
// Computes the hashes of events written before the hash chain existed, once (see
// migrations/sqlite/0004_event_chain.sql). Takes the write lock; a no-op when already done.
void fill_event_chain(connection& db);
// The stream's current version (0 when it does not exist).
std::int64_t read_stream_version(connection& db, std::string_view stream_id);
// The result stored with an idempotency key (replayed = true), nullopt for an unknown key. Throws
// idempotency_key_reused when the key was stored with another fingerprint.
std::optional<append_result> find_append_result(connection& db, const idempotency_key& key);

}  // namespace realmkit::infra::sqlite

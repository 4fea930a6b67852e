#include "infra/sqlite/sqlite_event_rows.hpp"

#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>
#include <limits>
#include <tuple>

#include "infra/audit/event_chain.hpp"

namespace realmkit::infra::sqlite {
namespace {

// ORDER BY ... DESC LIMIT 1 walks the rowid b-tree from its end; max() wrapped in coalesce would
// scan.
constexpr std::string_view kSelectHead =
    "SELECT global_position FROM events ORDER BY global_position DESC LIMIT 1";
constexpr std::string_view kSelectChainHead =
    "SELECT global_position, hash FROM events ORDER BY global_position DESC LIMIT 1";
constexpr std::string_view kSelectStreamVersion =
    "SELECT version FROM streams WHERE stream_id = ?1";
constexpr std::string_view kSelectIdempotencyKey =
    "SELECT fingerprint, result FROM idempotency_keys WHERE actor = ?1 AND key = ?2";

enum column : int {
  kPosition,
  kEventId,
  kStreamId,
  kStreamVersion,
  kType,
  kSchemaVersion,
  kRecordedAt,
  kData,
  kMetadata,
  kHash,
};

[[noreturn]] void corrupt(std::int64_t position, std::string_view what) {
  throw corrupt_event("event at global position " + std::to_string(position) +
                      " is corrupt: " + std::string(what));
}

// Validates without building a DOM: reads are the hot path of projections and audit.
bool is_json_object(std::string_view text) {
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') return false;
  rapidjson::MemoryStream stream(text.data(), text.size());
  rapidjson::BaseReaderHandler<> ignore;
  rapidjson::Reader reader;
  // Without kParseStopWhenDoneFlag the reader also refuses trailing content after the object.
  return !reader.Parse<rapidjson::kParseIterativeFlag>(stream, ignore).IsError();
}

std::string_view text_column(const query& row, int col, std::int64_t position, const char* name) {
  if (row.type(col) != column_type::text) corrupt(position, std::string(name) + " is not text");
  return row.text(col);
}

std::int64_t integer_column(const query& row, int col, std::int64_t position, const char* name) {
  if (row.type(col) != column_type::integer) {
    corrupt(position, std::string(name) + " is not an integer");
  }
  return row.integer(col);
}

}  // namespace

recorded_event decode_event(const query& row) {
  if (row.type(kPosition) != column_type::integer) {
    throw corrupt_event("an event row has no integer global position");
  }
  recorded_event e;
  e.global_position = row.integer(kPosition);
  const auto pos = e.global_position;
  e.event_id = text_column(row, kEventId, pos, "event_id");
  e.stream_id = text_column(row, kStreamId, pos, "stream_id");
  e.stream_version = integer_column(row, kStreamVersion, pos, "stream_version");
  if (e.stream_version < 1) corrupt(pos, "stream_version is below 1");
  e.type = text_column(row, kType, pos, "type");
  if (e.event_id.empty()) corrupt(pos, "event_id is empty");
  if (e.stream_id.empty()) corrupt(pos, "stream_id is empty");
  if (e.type.empty()) corrupt(pos, "type is empty");
  const auto schema = integer_column(row, kSchemaVersion, pos, "schema_version");
  if (schema < 1 || schema > std::numeric_limits<int>::max()) {
    corrupt(pos, "schema_version is out of range");
  }
  e.schema_version = static_cast<int>(schema);
  e.recorded_at =
      timestamp(std::chrono::microseconds(integer_column(row, kRecordedAt, pos, "recorded_at")));
  const auto data = text_column(row, kData, pos, "data");
  if (!is_json_object(data)) corrupt(pos, "data is not a JSON object");
  e.data = data;
  const auto metadata = text_column(row, kMetadata, pos, "metadata");
  if (!is_json_object(metadata)) corrupt(pos, "metadata is not a JSON object");
  e.metadata = metadata;
  // A missing or malformed hash is not a reading error: the chain verifier reports it.
  if (row.type(kHash) == column_type::blob) {
    const auto bytes = row.blob(kHash);
    if (bytes.size() == std::tuple_size_v<chain_hash>) {
      chain_hash h{};
      std::memcpy(h.data(), bytes.data(), h.size());
      e.hash = h;
    }
  }
  return e;
}

std::int64_t read_head(connection& db) {
  auto q = db.prepare(kSelectHead);
  return q.step() ? q.integer(0) : 0;
}

chain_head read_chain_head(connection& db) {
  auto q = db.prepare(kSelectChainHead);
  chain_head head;
  if (!q.step()) return head;
  head.position = q.integer(0);
  const auto bytes = q.blob(1);
  if (bytes.size() == head.hash.size()) std::memcpy(head.hash.data(), bytes.data(), bytes.size());
  return head;
}

void fill_event_chain(connection& db) {
  if (db.pragma_text("SELECT count(*) FROM event_chain_backfill") == "0") return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Checked again under the write lock: another process may have filled it meanwhile.
    if (db.pragma_text("SELECT count(*) FROM event_chain_backfill") != "0") {
      chain_hash previous = audit::kGenesisHash;
      auto rows = db.prepare("SELECT " REALMKIT_SQLITE_EVENT_COLUMNS
                             " FROM events ORDER BY global_position");
      while (rows.step()) {
        const auto e = decode_event(rows);
        previous = audit::chain_link(previous, e);
        const std::string_view bytes(reinterpret_cast<const char*>(previous.data()),
                                     previous.size());
        db.prepare("UPDATE events SET hash = ?1 WHERE global_position = ?2")
            .bind_blob(1, bytes)
            .bind(2, e.global_position)
            .run();
      }
      db.exec("DELETE FROM event_chain_backfill");
    }
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

std::int64_t read_stream_version(connection& db, std::string_view stream_id) {
  auto q = db.prepare(kSelectStreamVersion);
  q.bind(1, stream_id);
  return q.step() ? q.integer(0) : 0;
}

std::optional<append_result> find_append_result(connection& db, const idempotency_key& key) {
  auto q = db.prepare(kSelectIdempotencyKey);
  q.bind(1, key.actor).bind(2, key.key);
  if (!q.step()) return std::nullopt;
  if (q.text(0) != key.fingerprint) {
    throw idempotency_key_reused("idempotency key " + key.key + " of " + key.actor +
                                 " was used for a different request");
  }
  auto result = decode_append_result(q.text(1));
  result.replayed = true;
  return result;
}

}  // namespace realmkit::infra::sqlite

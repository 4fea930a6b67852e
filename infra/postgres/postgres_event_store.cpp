#include "infra/postgres/postgres_event_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "infra/audit/event_chain.hpp"
#include "infra/postgres/postgres_append_writer.hpp"
#include "infra/postgres/postgres_commit_flusher.hpp"
#include "infra/postgres/postgres_connection.hpp"
#include "infra/postgres/postgres_listener.hpp"
#include "infra/postgres/postgres_migrations.hpp"

namespace realmkit::infra {
namespace {

using namespace postgres_detail;

// Named read statements, prepared once per reader connection.
const std::string kEventColumns =
    "global_position, event_id, stream_id, stream_version, type, schema_version,"
    " (extract(epoch FROM recorded_at) * 1000000)::bigint, data, metadata, encode(hash, 'hex')";

constexpr const char* kReadAll = "read_all";
// Only up to the durable head: an append committed and not yet flushed could still be taken back
// by a crash, and no reader of the log may have seen it (migrations/postgres/0003_*).
const std::string kReadAllSql =
    "SELECT " + kEventColumns +
    " FROM events WHERE global_position > $1"
    "   AND global_position <= (SELECT last FROM event_durable_position)"
    " ORDER BY global_position LIMIT $2";
constexpr const char* kReadStream = "read_stream";
const std::string kReadStreamSql = "SELECT " + kEventColumns +
                                   " FROM events WHERE stream_id = $1 AND stream_version >= $2"
                                   " ORDER BY stream_version LIMIT $3";
constexpr const char* kStreamVersion = "stream_version";
constexpr const char* kStreamVersionSql =
    "SELECT stream_version FROM events WHERE stream_id = $1"
    " ORDER BY stream_version DESC LIMIT 1";
constexpr const char* kHeadPosition = "head_position";
constexpr const char* kHeadPositionSql = "SELECT last FROM event_durable_position";
constexpr const char* kFindKey = "find_idempotency_key";
constexpr const char* kFindKeySql =
    "SELECT fingerprint, result::text FROM idempotency_keys WHERE actor = $1 AND key = $2";

constexpr const char* kColumnNames[] = {"global_position", "event_id", "stream_id",
                                        "stream_version",  "type",     "schema_version",
                                        "recorded_at",     "data",     "metadata"};

constexpr std::chrono::milliseconds kMinPollInterval{10};

std::unique_ptr<pqxx::connection> open_reader(const postgres_store_options& options) {
  auto connection = open_connection(options, "reader");
  connection->prepare(kReadAll, kReadAllSql);
  connection->prepare(kReadStream, kReadStreamSql);
  connection->prepare(kStreamVersion, kStreamVersionSql);
  connection->prepare(kHeadPosition, kHeadPositionSql);
  connection->prepare(kFindKey, kFindKeySql);
  return connection;
}

// The database guarantees json columns hold valid JSON, so an object is one that starts with '{'.
bool looks_like_json_object(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

std::int64_t clamp_limit(std::size_t max) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(max, kMax));
}

std::string row_place(const pqxx::row& row) {
  return "the event at position " +
         (row[0].is_null() ? std::string("NULL") : row[0].as<std::string>());
}

template <class Int>
bool parse_integer(std::string_view text, Int& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc{} && end == text.data() + text.size();
}

// Maps one row, refusing anything a correct writer could not have stored. Every event read
// passes here (a whole-log replay, a million times), so each field is looked at once and the
// description of the row is built only for an error.
recorded_event to_event(const pqxx::row& row) {
  std::array<std::string_view, std::size(kColumnNames)> text;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto field = row[static_cast<pqxx::row::size_type>(i)];
    if (field.is_null()) throw corrupt_event(row_place(row) + " has no " + kColumnNames[i]);
    text[i] = std::string_view(field.c_str(), field.size());
  }
  recorded_event e;
  std::int64_t micros = 0;
  if (!parse_integer(text[0], e.global_position) || !parse_integer(text[3], e.stream_version) ||
      !parse_integer(text[5], e.schema_version) || !parse_integer(text[6], micros)) {
    throw corrupt_event(row_place(row) +
                        " cannot be read: a position, version or time is not an integer");
  }
  e.event_id.assign(text[1]);
  e.stream_id.assign(text[2]);
  e.type.assign(text[4]);
  e.recorded_at = timestamp(std::chrono::microseconds(micros));
  e.data.assign(text[7]);
  e.metadata.assign(text[8]);
  if (e.global_position < 1 || e.stream_version < 1 || e.schema_version < 1) {
    throw corrupt_event(row_place(row) +
                        " has a position, stream version or schema version below 1");
  }
  if (e.event_id.empty() || e.stream_id.empty() || e.type.empty()) {
    throw corrupt_event(row_place(row) + " has an empty event id, stream id or type");
  }
  // A missing or malformed hash is not a reading error: the chain verifier reports it.
  if (const auto hash = row[9]; !hash.is_null())
    e.hash = audit::chain_hash_from_hex(std::string_view(hash.c_str(), hash.size()));
  if (!looks_like_json_object(e.data)) {
    throw corrupt_event(row_place(row) + ": data is not a JSON object");
  }
  if (!looks_like_json_object(e.metadata)) {
    throw corrupt_event(row_place(row) + ": metadata is not a JSON object");
  }
  return e;
}

// Computes the hashes of events written before the hash chain existed, once (see
// migrations/postgres/0009_event_chain.sql), holding the position lock so no append interleaves.
void fill_event_chain(pqxx::connection& connection) {
  {
    pqxx::nontransaction probe(connection, "event_chain_backfill");
    if (probe.exec1("SELECT count(*) FROM event_chain_backfill")[0].as<int>() == 0) return;
  }
  pqxx::work tx(connection, "fill_event_chain");
  tx.exec("SELECT 1 FROM event_position FOR UPDATE");
  // Checked again under the lock: another process may have filled it meanwhile.
  if (tx.exec1("SELECT count(*) FROM event_chain_backfill")[0].as<int>() > 0) {
    const std::string select = "SELECT " + kEventColumns +
                               " FROM events WHERE global_position > $1"
                               " ORDER BY global_position LIMIT 10000";
    chain_hash hash = audit::kGenesisHash;
    std::int64_t last = 0;
    for (;;) {
      const auto rows = tx.exec_params(select, last);
      if (rows.empty()) break;
      std::string positions = "{";
      std::string hashes = "{";
      for (const auto& row : rows) {
        const auto e = to_event(row);
        hash = audit::chain_link(hash, e);
        last = e.global_position;
        if (positions.size() > 1) {
          positions += ',';
          hashes += ',';
        }
        positions += std::to_string(last);
        hashes += audit::to_hex(hash);
      }
      tx.exec_params(
          "UPDATE events SET hash = decode(u.hash, 'hex')"
          " FROM unnest($1::bigint[], $2::text[]) AS u(position, hash)"
          " WHERE global_position = u.position",
          positions + "}", hashes + "}");
    }
    if (last > 0) {
      tx.exec_params("UPDATE event_position SET last_hash = decode($1, 'hex')",
                     audit::to_hex(hash));
    }
    tx.exec("DELETE FROM event_chain_backfill");
  }
  tx.commit();
}

}  // namespace

int migrate_postgres(const postgres_store_options& options) {
  if (!is_valid_schema_name(options.schema)) {
    throw std::invalid_argument("PostgreSQL schema name " + options.schema +
                                " must be [a-z_][a-z0-9_]* of at most 47 characters");
  }
  auto connection = open_connection(options, "migrate");
  try {
    const int version = apply_migrations(*connection, options.schema);
    fill_event_chain(*connection);
    return version;
  } catch (...) {
    rethrow_as_store_error("migrating schema " + options.schema);
  }
}

class postgres_event_store::impl {
 public:
  explicit impl(postgres_store_options options)
      : options_(std::move(options)),
        readers_([this] { return open_reader(options_); }, options_.reader_connections) {
    if (!is_valid_schema_name(options_.schema)) {
      throw std::invalid_argument("PostgreSQL schema name " + options_.schema +
                                  " must be [a-z_][a-z0-9_]* of at most 47 characters");
    }
    if (options_.drop_schema_on_close && options_.schema == "public") {
      throw std::invalid_argument("drop_schema_on_close is for throw-away schemas, not public");
    }
    auto connection = open_connection(options_, "writer");
    try {
      apply_migrations(*connection, options_.schema);
      fill_event_chain(*connection);
      // Appends a crashed process committed but never flushed are on disk now if they survived
      // at all: flushing makes them visible, and gives the head.
      known_head_ = commit_flusher::flush(*connection, notify_channel(options_.schema));
    } catch (...) {
      rethrow_as_store_error("opening the event store in schema " + options_.schema);
    }
    writer_ = std::make_unique<append_writer>(options_, std::move(connection),
                                              [this](std::int64_t head) { note_head(head); });
    listener_ = std::make_unique<position_listener>(options_,
                                                    [this](std::int64_t head) { note_head(head); });
  }

  ~impl() {
    listener_.reset();
    writer_.reset();
    if (options_.drop_schema_on_close) drop_schema();
  }

  // Runs a read on a pooled connection; a broken connection is dropped by the lease.
  template <class F>
  auto read(std::string_view operation, F&& f) {
    auto lease = readers_.acquire();
    try {
      pqxx::nontransaction tx(lease.connection(), std::string(operation));
      return f(tx);
    } catch (...) {
      rethrow_as_store_error(operation);
    }
  }

  // Anything above the known head wakes wait_for_append; -1 means "something, position unknown".
  void note_head(std::int64_t head) {
    {
      std::lock_guard lock(head_mutex_);
      if (head < 0) {
        ++unknown_appends_;
      } else if (head > known_head_) {
        known_head_ = head;
      } else {
        return;
      }
    }
    head_advanced_.notify_all();
  }

  std::int64_t query_head() {
    const auto head = read("head_position", [](pqxx::nontransaction& tx) {
      return tx.exec_prepared1(kHeadPosition)[0].template as<std::int64_t>();
    });
    note_head(head);
    return head;
  }

  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    std::unique_lock lock(head_mutex_);
    const auto unknown_at_start = unknown_appends_;
    while (known_head_ <= position && unknown_appends_ == unknown_at_start) {
      const auto now = clock::now();
      if (now >= deadline) return;
      const auto until =
          std::min(deadline, now + std::max(options_.poll_interval, kMinPollInterval));
      if (head_advanced_.wait_until(lock, until) == std::cv_status::timeout && until < deadline) {
        // No notification within the poll interval: the listener may be reconnecting.
        lock.unlock();
        try {
          query_head();
        } catch (const store_error&) {
          // The next read reports the failure; waiting only has to end in time.
        }
        lock.lock();
      }
    }
  }

  void drop_schema() {
    try {
      auto connection = open_connection(options_, "drop");
      pqxx::nontransaction tx(*connection, "drop schema");
      tx.exec("DROP SCHEMA IF EXISTS " + quoted_identifier(options_.schema) + " CASCADE");
    } catch (const std::exception& e) {
      spdlog::warn("could not drop PostgreSQL schema {}: {}", options_.schema, e.what());
    }
  }

  postgres_store_options options_;
  connection_pool readers_;
  std::unique_ptr<append_writer> writer_;
  std::unique_ptr<position_listener> listener_;

  std::mutex head_mutex_;  // guards known_head_ and unknown_appends_
  std::condition_variable head_advanced_;
  std::int64_t known_head_ = 0;        // highest position known to be committed
  std::uint64_t unknown_appends_ = 0;  // notifications whose payload was not a position
};

postgres_event_store::postgres_event_store(postgres_store_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

postgres_event_store::~postgres_event_store() = default;

const postgres_store_options& postgres_event_store::options() const {
  return impl_->options_;
}

std::size_t postgres_event_store::queued_appends() const {
  return impl_->writer_->queue_depth();
}

append_result postgres_event_store::append(std::span<const stream_write> writes,
                                           const std::optional<idempotency_key>& key) {
  validate_writes(writes);
  validate_for_postgres(writes, key);
  return impl_->writer_->append(writes, key);
}

std::optional<append_result> postgres_event_store::find_idempotent(const idempotency_key& key) {
  auto stored = impl_->read("find_idempotent", [&](pqxx::nontransaction& tx) {
    return tx.exec_prepared(kFindKey, key.actor, key.key);
  });
  if (stored.empty()) return std::nullopt;
  if (stored[0][0].as<std::string>() != key.fingerprint) {
    throw idempotency_key_reused("idempotency key " + key.key + " of " + key.actor +
                                 " was already used for a different request");
  }
  auto result = decode_append_result(stored[0][1].as<std::string>());
  result.replayed = true;
  return result;
}

std::vector<recorded_event> postgres_event_store::read_stream(std::string_view stream_id,
                                                              std::int64_t from_version,
                                                              std::size_t max) {
  std::vector<recorded_event> events;
  if (max == 0) return events;
  from_version = std::max<std::int64_t>(from_version, 1);
  const auto rows = impl_->read("read_stream", [&](pqxx::nontransaction& tx) {
    return tx.exec_prepared(kReadStream, std::string(stream_id), from_version, clamp_limit(max));
  });
  events.reserve(rows.size());
  for (const auto& row : rows) {
    auto e = to_event(row);
    const auto expected = from_version + static_cast<std::int64_t>(events.size());
    if (e.stream_version != expected) {
      throw corrupt_event("stream " + std::string(stream_id) + " has no event at version " +
                          std::to_string(expected));
    }
    events.push_back(std::move(e));
  }
  return events;
}

std::int64_t postgres_event_store::stream_version(std::string_view stream_id) {
  return impl_->read("stream_version", [&](pqxx::nontransaction& tx) -> std::int64_t {
    const auto rows = tx.exec_prepared(kStreamVersion, std::string(stream_id));
    return rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
  });
}

std::vector<recorded_event> postgres_event_store::read_all(std::int64_t after_position,
                                                           std::size_t max) {
  std::vector<recorded_event> events;
  if (max == 0) return events;
  after_position = std::max<std::int64_t>(after_position, 0);
  const auto rows = impl_->read("read_all", [&](pqxx::nontransaction& tx) {
    return tx.exec_prepared(kReadAll, after_position, clamp_limit(max));
  });
  events.reserve(rows.size());
  for (const auto& row : rows) {
    auto e = to_event(row);
    // Positions are contiguous by construction; a hole means rows were removed behind our back.
    const auto expected = after_position + 1 + static_cast<std::int64_t>(events.size());
    if (e.global_position != expected) {
      throw corrupt_event("the event at position " + std::to_string(expected) + " is missing");
    }
    events.push_back(std::move(e));
  }
  return events;
}

std::size_t postgres_event_store::concurrent_reads() {
  return std::max<std::size_t>(impl_->options_.reader_connections, 1);
}

std::int64_t postgres_event_store::head_position() {
  return impl_->query_head();
}

void postgres_event_store::wait_for_append(std::int64_t position,
                                           std::chrono::milliseconds timeout) {
  impl_->wait_for_append(position, timeout);
}

}  // namespace realmkit::infra

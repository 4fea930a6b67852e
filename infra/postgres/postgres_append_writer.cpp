#include "infra/postgres/postgres_append_writer.hpp"

#include <spdlog/spdlog.h>

#include <unordered_set>

#include "infra/postgres/postgres_connection.hpp"

namespace realmkit::infra::postgres_detail {
namespace {

// The statements of one append transaction, prepared once per writer connection (they run for
// every batch, so parsing and planning them once saves server CPU).

// The position lock (see migrations/postgres/0001_events.sql): every append transaction of every
// process takes it first, so appends are serialized and positions become visible in order. Sent
// with the BEGIN as one message, saving a round trip.
constexpr const char* kBeginAndLock = "BEGIN; SELECT last FROM event_position FOR UPDATE";

// Everything the batch's decisions depend on: the versions of its streams, its event ids already
// stored (retries), its idempotency keys already used. A statement of its own after the lock, so
// (read committed) its snapshot includes every append committed before this one.
constexpr const char* kLoadBatchState = "load_batch_state";
constexpr const char* kLoadBatchStateSql =
    "SELECT 's', stream_id, NULL::text, NULL::text, NULL::text, version, NULL::bigint"
    "  FROM streams WHERE stream_id = ANY($1::text[]) "
    "UNION ALL "
    "SELECT 'e', event_id, stream_id, type, NULL, stream_version, global_position"
    "  FROM events WHERE event_id = ANY($2::text[]) "
    "UNION ALL "
    "SELECT 'k', k.actor, k.key, k.fingerprint, k.result::text, NULL, NULL"
    "  FROM idempotency_keys k"
    "  JOIN unnest($3::text[], $4::text[]) AS u(actor, key)"
    "    ON k.actor = u.actor AND k.key = u.key";

// Every row of the batch in one statement; the NOTIFY is delivered only if the batch commits.
constexpr const char* kWriteBatch = "write_batch";
constexpr const char* kWriteBatchSql =
    "WITH new_events AS ("
    "  INSERT INTO events (global_position, event_id, stream_id, stream_version, type,"
    "                      schema_version, recorded_at, data, metadata)"
    "  SELECT e.global_position, e.event_id, e.stream_id, e.stream_version, e.type,"
    "         e.schema_version, statement_timestamp(), e.data::json, e.metadata::json"
    "  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[],"
    "              $6::integer[], $7::text[], $8::text[])"
    "    AS e(global_position, event_id, stream_id, stream_version, type, schema_version, data,"
    "         metadata)"
    "), stream_heads AS ("
    "  INSERT INTO streams (stream_id, version)"
    "  SELECT * FROM unnest($9::text[], $10::bigint[])"
    "  ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version"
    "), new_keys AS ("
    "  INSERT INTO idempotency_keys (actor, key, fingerprint, result, created_at)"
    "  SELECT k.actor, k.key, k.fingerprint, k.result::json, statement_timestamp()"
    "  FROM unnest($11::text[], $12::text[], $13::text[], $14::text[])"
    "    AS k(actor, key, fingerprint, result)"
    "), head AS ("
    "  UPDATE event_position SET last = $15::bigint"
    ") "
    "SELECT pg_notify($16, $15::bigint::text)";

// Errors caused by the content of one append (bad data that slipped past validation, a limit),
// as opposed to the server or connection failing: worth retrying the batch append by append.
bool caused_by_content(const pqxx::sql_error& e) {
  const auto& state = e.sqlstate();
  return state.starts_with("22") || state.starts_with("23") || state.starts_with("54");
}

// The writer only makes point lookups by key, for which a sequential scan is never right; yet
// the planner picks one for a young table that has not been analyzed yet and keeps it in the
// prepared statement, costing rows x batch comparisons per batch.
void prepare_session(pqxx::connection& connection) {
  connection.set_variable("enable_seqscan", "off");
  connection.prepare(kLoadBatchState, kLoadBatchStateSql);
  connection.prepare(kWriteBatch, kWriteBatchSql);
}

std::exception_ptr translated_current(std::string_view operation) {
  try {
    rethrow_as_store_error(operation);
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace

append_writer::append_writer(const postgres_store_options& options,
                             std::unique_ptr<pqxx::connection> connection,
                             std::function<void(std::int64_t)> on_commit)
    : options_(options),
      channel_(notify_channel(options.schema)),
      on_commit_(std::move(on_commit)),
      connection_(std::move(connection)) {
  prepare_session(*connection_);
  thread_ = std::thread([this] { run(); });
}

append_writer::~append_writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_cv_.notify_one();
  thread_.join();
}

append_result append_writer::append(std::span<const stream_write> writes,
                                    const std::optional<idempotency_key>& key) {
  queued request;
  request.request = {writes, &key};
  for (const auto& write : writes) {
    request.events += write.events.size();
    request.bytes += write.stream_id.size();
    for (const auto& e : write.events) {
      request.bytes += e.event_id.size() + e.type.size() + e.data.size() + e.metadata.size();
    }
  }
  auto done = request.done.get_future();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(&request);
  }
  queued_cv_.notify_one();
  return done.get();
}

std::size_t append_writer::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void append_writer::run() {
  std::vector<queued*> batch;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      queued_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      std::size_t events = 0;
      std::size_t bytes = 0;
      while (!queue_.empty()) {
        auto* next = queue_.front();
        const bool fits = events + next->events <= options_.max_batch_events &&
                          bytes + next->bytes <= options_.max_batch_bytes;
        if (!batch.empty() && !fits) break;
        events += next->events;
        bytes += next->bytes;
        batch.push_back(next);
        queue_.pop_front();
      }
    }
    write_batch(batch);
  }
}

void append_writer::ensure_connection() {
  if (connection_ && still_connected(*connection_)) return;
  if (connection_) spdlog::warn("PostgreSQL writer for schema {} reconnects", options_.schema);
  connection_.reset();
  auto connection = open_connection(options_, "writer");
  prepare_session(*connection);
  connection_ = std::move(connection);
}

void append_writer::write_batch(std::span<queued* const> batch) {
  std::exception_ptr failure;
  try {
    write_transaction(batch);
    return;
  } catch (const pqxx::sql_error& e) {
    if (connection_ && connection_lost(*connection_)) connection_.reset();
    if (connection_ && caused_by_content(e)) {
      if (batch.size() > 1) {
        // One append carries something the server refuses: retry them one by one so that
        // only that append fails.
        for (auto* request : batch) write_batch(std::span(&request, 1));
        return;
      }
      failure = std::make_exception_ptr(
          invalid_append("events", std::string("PostgreSQL refused the append: ") + e.what()));
    } else {
      failure = translated_current("append");
    }
  } catch (...) {
    if (connection_ && connection_lost(*connection_)) connection_.reset();
    failure = translated_current("append");
  }
  for (auto* request : batch) request->done.set_exception(failure);
}

void append_writer::write_transaction(std::span<queued* const> batch) {
  ensure_connection();
  auto& connection = *connection_;

  std::vector<append_request> requests;
  requests.reserve(batch.size());
  text_array_builder stream_ids;
  text_array_builder event_ids;
  text_array_builder actors;
  text_array_builder keys;
  std::unordered_set<std::string_view> seen_streams;
  for (const auto* q : batch) {
    requests.push_back(q->request);
    for (const auto& write : q->request.writes) {
      if (seen_streams.insert(write.stream_id).second) stream_ids.add(write.stream_id);
      for (const auto& e : write.events) event_ids.add(e.event_id);
    }
    if (q->request.key->has_value()) {
      actors.add((*q->request.key)->actor);
      keys.add((*q->request.key)->key);
    }
  }

  // A nontransaction with an explicit BEGIN, so that BEGIN rides with the lock statement.
  bool in_transaction = false;
  try {
    pqxx::nontransaction tx(connection, "append");
    in_transaction = true;  // from here on, a failure must roll back
    batch_state state;
    state.last_position = tx.exec1(kBeginAndLock, "lock_position")[0].as<std::int64_t>();
    const auto rows = tx.exec_prepared(kLoadBatchState, stream_ids.finish(), event_ids.finish(),
                                       actors.finish(), keys.finish());
    for (const auto& row : rows) {
      switch (row[0].c_str()[0]) {
        case 's':
          state.stream_versions[row[1].as<std::string>()] = row[5].as<std::int64_t>();
          break;
        case 'e':
          state.events[row[1].as<std::string>()] = {
              row[2].as<std::string>(), row[5].as<std::int64_t>(), row[6].as<std::int64_t>(),
              row[3].as<std::string>()};
          break;
        default:
          state.keys[{row[1].as<std::string>(), row[2].as<std::string>()}] = {
              row[3].as<std::string>(), decode_append_result(row[4].as<std::string>())};
      }
    }

    append_plan plan(std::move(state), requests);
    if (plan.empty()) {
      tx.exec("ROLLBACK");  // nothing to write: every append was replayed or refused
      in_transaction = false;
    } else {
      write_rows(tx, plan);
      if (options_.before_commit) {
        options_.before_commit(
            pending_commit{plan.first_position(), plan.last_position(), plan.written_appends()});
      }
      try {
        tx.exec("COMMIT");
      } catch (const pqxx::broken_connection& e) {
        throw pqxx::in_doubt_error(std::string("the connection broke during COMMIT: ") + e.what());
      }
      in_transaction = false;
      on_commit_(plan.last_position());
    }

    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& outcome = plan.outcomes()[i];
      if (outcome.error) {
        batch[i]->done.set_exception(outcome.error);
      } else {
        batch[i]->done.set_value(*outcome.result);
      }
    }
  } catch (...) {
    if (in_transaction && !connection_lost(connection)) {
      try {
        pqxx::nontransaction rollback(connection, "rollback");
        rollback.exec("ROLLBACK");
      } catch (const std::exception&) {
        connection_.reset();  // the session's state is unknown: start over
      }
    }
    throw;
  }
}

void append_writer::write_rows(pqxx::nontransaction& tx, const append_plan& plan) const {
  std::vector<std::int64_t> positions;
  std::vector<std::int64_t> versions;
  std::vector<std::int64_t> schema_versions;
  text_array_builder ids;
  text_array_builder streams;
  text_array_builder types;
  text_array_builder data;
  text_array_builder metadata;
  std::size_t data_bytes = 0;
  std::size_t metadata_bytes = 0;
  for (const auto& e : plan.events()) {
    data_bytes += e.event->data.size() + 3;
    metadata_bytes += e.event->metadata.size() + 3;
  }
  // Quotes in JSON get escaped: leave room so the literal is built without reallocating.
  data.reserve(data_bytes + data_bytes / 4);
  metadata.reserve(metadata_bytes + metadata_bytes / 4);
  for (const auto& e : plan.events()) {
    positions.push_back(e.global_position);
    versions.push_back(e.stream_version);
    schema_versions.push_back(e.event->schema_version);
    ids.add(e.event->event_id);
    streams.add(*e.stream_id);
    types.add(e.event->type);
    data.add(e.event->data);
    metadata.add(e.event->metadata);
  }
  text_array_builder head_streams;
  std::vector<std::int64_t> head_versions;
  for (const auto& [stream, version] : plan.stream_versions()) {
    head_streams.add(stream);
    head_versions.push_back(version);
  }
  text_array_builder key_actors;
  text_array_builder key_keys;
  text_array_builder key_fingerprints;
  text_array_builder key_results;
  for (const auto& k : plan.keys()) {
    key_actors.add(k.key->actor);
    key_keys.add(k.key->key);
    key_fingerprints.add(k.key->fingerprint);
    key_results.add(k.result_json);
  }
  tx.exec_prepared(kWriteBatch, int_array(positions), ids.finish(), streams.finish(),
                   int_array(versions), types.finish(), int_array(schema_versions), data.finish(),
                   metadata.finish(), head_streams.finish(), int_array(head_versions),
                   key_actors.finish(), key_keys.finish(), key_fingerprints.finish(),
                   key_results.finish(), plan.last_position(), channel_);
}

}  // namespace realmkit::infra::postgres_detail

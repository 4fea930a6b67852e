#include "infra/postgres/postgres_append_writer.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <unordered_set>

#include "infra/audit/event_chain.hpp"
#include "infra/postgres/postgres_connection.hpp"

namespace realmkit::infra::postgres_detail {
namespace {

// The statements of one append transaction, prepared once per writer connection (they run for
// every batch, so parsing and planning them once saves server CPU).

// Each append transaction takes two round trips. The first message begins it, takes the position
// lock (see migrations/postgres/0001_events.sql) and loads what the batch's decisions depend on;
// the second writes every row and commits. Every append transaction of every process takes the
// lock first, so appends are serialized and positions become visible in order; the round trips
// are the lock's hold time, so they are as few as the decisions allow. The commit does not wait
// for its WAL flush: the commit_flusher makes it durable before anyone is answered or any reader
// of the log sees it (migrations/postgres/0003_append_pipeline.sql).
constexpr const char* kBeginAndLock =
    "BEGIN; SET LOCAL synchronous_commit = off; SELECT 1 FROM event_position FOR UPDATE; ";

// What the batch's decisions depend on: the head position, the versions of its streams, its
// event ids already stored (retries), its idempotency keys already used. A statement of its own
// after the lock, so (read committed) its snapshot includes every append committed before.
constexpr const char* kLoadBatchState = "load_batch_state";
constexpr const char* kLoadBatchStateSql =
    "SELECT 'p', encode(last_hash, 'hex'), NULL::text, NULL::text, NULL::text, NULL::bigint, last"
    "  FROM event_position "
    "UNION ALL "
    "SELECT 's', s.id, NULL, NULL, NULL, head.version, NULL"
    "  FROM unnest($1::text[]) AS s(id)"
    "  CROSS JOIN LATERAL (SELECT stream_version FROM events WHERE stream_id = s.id"
    "                      ORDER BY stream_version DESC LIMIT 1) AS head(version) "
    "UNION ALL "
    "SELECT 'e', event_id, stream_id, type, NULL, stream_version, global_position"
    "  FROM events WHERE event_id = ANY($2::text[]) "
    "UNION ALL "
    "SELECT 'k', k.actor, k.key, k.fingerprint, k.result::text, NULL, NULL"
    "  FROM idempotency_keys k"
    "  JOIN unnest($3::text[], $4::text[]) AS u(actor, key)"
    "    ON k.actor = u.actor AND k.key = u.key";

// Every row of the batch in one statement.
constexpr const char* kWriteBatch = "write_batch";
constexpr const char* kWriteBatchSql =
    "WITH new_events AS ("
    "  INSERT INTO events (global_position, event_id, stream_id, stream_version, type,"
    "                      schema_version, recorded_at, data, metadata, hash)"
    "  SELECT e.global_position, e.event_id, e.stream_id, e.stream_version, e.type,"
    "         e.schema_version, to_timestamp(0) + $14::bigint * interval '1 microsecond',"
    "         e.data::json, e.metadata::json, decode(e.hash, 'hex')"
    "  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[],"
    "              $6::integer[], $7::text[], $8::text[], $15::text[])"
    "    AS e(global_position, event_id, stream_id, stream_version, type, schema_version, data,"
    "         metadata, hash)"
    "), new_keys AS ("
    "  INSERT INTO idempotency_keys (actor, key, fingerprint, result, created_at)"
    "  SELECT k.actor, k.key, k.fingerprint, k.result::json, statement_timestamp()"
    "  FROM unnest($9::text[], $10::text[], $11::text[], $12::text[])"
    "    AS k(actor, key, fingerprint, result)"
    ") "
    "UPDATE event_position SET last = $13::bigint, last_hash = decode($16::text, 'hex')";

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
  // SQL-level PREPARE (pqxx prepares lazily, on first exec_prepared), for EXECUTE by name.
  pqxx::nontransaction tx(connection, "prepare");
  tx.exec(std::string("PREPARE ") + kLoadBatchState + " AS " + kLoadBatchStateSql);
  tx.exec(std::string("PREPARE ") + kWriteBatch + " AS " + kWriteBatchSql);
}

// "EXECUTE name('arg', ...)": a statement prepared on the session, with its arguments as quoted
// literals, so it can share one message (and one round trip) with other statements.
std::string execute_sql(pqxx::nontransaction& tx, std::string_view name,
                        std::initializer_list<std::string> arguments) {
  std::size_t size = name.size() + 16;
  for (const auto& a : arguments) size += a.size() + a.size() / 8 + 4;
  std::string sql;
  sql.reserve(size);
  sql += "EXECUTE ";
  sql += name;
  sql += '(';
  bool first = true;
  for (const auto& a : arguments) {
    if (!first) sql += ", ";
    first = false;
    sql += '\'';
    sql += tx.esc(a);  // escapes as the session's standard_conforming_strings requires
    sql += '\'';
  }
  sql += ')';
  return sql;
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
                             std::function<void(std::int64_t)> on_durable)
    : options_(options),
      connection_(std::move(connection)),
      flusher_(options, std::move(on_durable)) {
  prepare_session(*connection_);
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "pg-writer");  // for top -H and profilers
    run();
  });
}

append_writer::~append_writer() {
  stopping_ = true;
  queue_.wake_writer();
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
  if (stopping_) throw store_unavailable("the event store is closing");
  queue_.push(request);
  request.wait_answer();
  if (request.error) std::rethrow_exception(request.error);
  return std::move(request.result);
}

void append_writer::run() {
  std::vector<queued*> taken;
  std::deque<queued*> pending;  // taken from the queue, oldest first
  std::vector<queued*> batch;
  std::vector<flush_waiter*> committed;
  std::vector<queued*> failed;
  std::size_t last_batch = 0;
  for (;;) {
    taken.clear();
    queue_.take(taken);
    pending.insert(pending.end(), taken.begin(), taken.end());
    if (pending.empty()) {
      if (stopping_) return;  // every append pushed before the stop is answered
      queue_.wait_for_work();
      continue;
    }
    gather(pending, last_batch);
    last_batch = 0;
    batch.clear();
    std::size_t events = 0;
    std::size_t bytes = 0;
    while (!pending.empty()) {
      auto* next = pending.front();
      const bool fits = events + next->events <= options_.max_batch_events &&
                        bytes + next->bytes <= options_.max_batch_bytes;
      if (!batch.empty() && !fits) break;
      events += next->events;
      bytes += next->bytes;
      batch.push_back(next);
      pending.pop_front();
    }
    backlog_.store(pending.size(), std::memory_order_relaxed);
    write_batch(batch);
    last_batch = batch.size();
    // Answered after the flush: whatever a committed transaction decided, written or replayed,
    // may rest on appends not yet flushed. A batch that failed outright is answered now.
    committed.clear();
    failed.clear();
    for (auto* q : batch) {
      if (q->committed) {
        committed.push_back(q);
      } else {
        failed.push_back(q);
      }
    }
    if (!committed.empty()) flusher_.hand_over(std::span<flush_waiter* const>(committed));
    wake_as_tree(std::span<queued* const>(failed));
  }
}

// After a batch of several appends, most of its callers append again a moment after they are
// answered: waiting for about half of them to be back makes the next fsync carry them all.
void append_writer::gather(std::deque<queued*>& pending, std::size_t last_batch) {
  if (options_.gather_delay.count() <= 0 || last_batch < 4 || stopping_) return;
  const auto wanted = last_batch / 2;
  const auto deadline = std::chrono::steady_clock::now() + options_.gather_delay;
  std::vector<queued*> taken;
  while (pending.size() < wanted) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !queue_.wait_for_work(left)) break;
    taken.clear();
    queue_.take(taken);
    pending.insert(pending.end(), taken.begin(), taken.end());
  }
}

void append_writer::ensure_connection() {
  if (connection_ && still_connected(*connection_)) return;
  if (connection_) spdlog::warn("PostgreSQL writer for schema {} reconnects", options_.schema);
  connection_.reset();
  forget();
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
  for (auto* request : batch) {
    request->error = failure;
    request->committed = false;
  }
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

  if (auto state = cached_state(requests)) {
    if (write_optimistically(batch, requests, std::move(*state))) return;
  }

  // A nontransaction with an explicit BEGIN, so that BEGIN rides with the lock statement.
  bool in_transaction = false;
  try {
    pqxx::nontransaction tx(connection, "append");
    in_transaction = true;  // from here on, a failure must roll back
    batch_state state;
    // Statements prepared on the session, run by EXECUTE inside one multi-statement message.
    const auto rows = tx.exec(kBeginAndLock + execute_sql(tx, kLoadBatchState,
                                                          {stream_ids.finish(), event_ids.finish(),
                                                           actors.finish(), keys.finish()}),
                              "lock_and_load");
    for (const auto& row : rows) {
      switch (row[0].c_str()[0]) {
        case 'p':
          state.last_position = row[6].as<std::int64_t>();
          // NULL for an empty log (and for a head whose link is missing: the verifier says so).
          if (!row[1].is_null()) {
            state.last_hash =
                audit::chain_hash_from_hex(std::string_view(row[1].c_str(), row[1].size()))
                    .value_or(audit::kGenesisHash);
          }
          break;
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

    const auto loaded_last = state.last_position;
    const auto loaded_hash = state.last_hash;
    append_plan plan(std::move(state), requests);
    if (plan.empty()) {
      tx.exec("ROLLBACK");  // nothing to write: every append was replayed or refused
      in_transaction = false;
      known_last_ = loaded_last;
      known_last_hash_ = loaded_hash;
    } else {
      chain_hash last_hash{};
      write_and_commit(tx, plan, write_sql(tx, plan, last_hash));
      in_transaction = false;
      remember(plan, last_hash);
    }

    answer(batch, plan);
  } catch (...) {
    forget();
    if (in_transaction) roll_back();
    throw;
  }
}

// Sends the rows (with whatever `write` starts with) and the COMMIT: in one message, or around
// the before_commit hook when a test holds the transaction open there.
void append_writer::write_and_commit(pqxx::nontransaction& tx, const append_plan& plan,
                                     std::string write) {
  if (options_.before_commit) {
    tx.exec(write, "write_batch");
    options_.before_commit(
        pending_commit{plan.first_position(), plan.last_position(), plan.written_appends()});
    write = "COMMIT";
  } else {
    write += "; COMMIT";
  }
  try {
    tx.exec(write, "write_and_commit");
  } catch (const pqxx::broken_connection& e) {
    throw pqxx::in_doubt_error(std::string("the connection broke during COMMIT: ") + e.what());
  }
}

// Ends a transaction that failed; when even that fails, the session's state is unknown and the
// connection is dropped, to be reopened for the next batch.
void append_writer::roll_back() {
  if (!connection_ || connection_lost(*connection_)) return;
  try {
    pqxx::nontransaction rollback(*connection_, "rollback");
    rollback.exec("ROLLBACK");
  } catch (const std::exception&) {
    connection_.reset();
  }
}

void append_writer::answer(std::span<queued* const> batch, const append_plan& plan) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& outcome = plan.outcomes()[i];
    batch[i]->error = outcome.error;
    if (outcome.result) batch[i]->result = *outcome.result;
    batch[i]->committed = true;
  }
}

void append_writer::remember(const append_plan& plan, const chain_hash& last_hash) {
  known_last_ = plan.last_position();
  known_last_hash_ = last_hash;
  if (known_versions_.size() > kMaxKnownStreams) known_versions_.clear();
  for (const auto& [stream, version] : plan.stream_versions()) known_versions_[stream] = version;
}

void append_writer::forget() {
  known_last_.reset();
  known_versions_.clear();
}

// The state the batch's decisions need, from what this writer itself committed last, when that
// suffices: every stream's version is known, or the append expects the stream not to exist.
// Whether nobody else appended since is checked by the write itself (see write_optimistically).
std::optional<batch_state> append_writer::cached_state(
    std::span<const append_request> requests) const {
  if (!known_last_) return std::nullopt;
  batch_state state;
  state.last_position = *known_last_;
  state.last_hash = known_last_hash_;
  for (const auto& request : requests) {
    for (const auto& write : request.writes) {
      const auto known = known_versions_.find(write.stream_id);
      if (known != known_versions_.end()) {
        state.stream_versions[write.stream_id] = known->second;
      } else if (write.expected && *write.expected == 0) {
        state.stream_versions.emplace(write.stream_id, 0);
      } else {
        return std::nullopt;
      }
    }
  }
  return state;
}

// One round trip instead of two: lock, write and commit in one message, decided on the cached
// state. If anyone else appended since this writer's last commit, the cached head is behind and
// the first position collides with theirs; a cached stream version that is behind collides on
// (stream_id, stream_version); a new stream that exists collides on its version 1; a retried
// event id or a used idempotency key collides on its unique key. Every collision aborts the
// transaction before anything is visible, and the batch then takes the full path, which loads
// the state. False when it did not commit (nothing is written then).
bool append_writer::write_optimistically(std::span<queued* const> batch,
                                         std::span<const append_request> requests,
                                         batch_state state) {
  append_plan plan(std::move(state), requests);
  if (plan.empty()) return false;
  for (const auto& outcome : plan.outcomes()) {
    // A refusal on cached state might be wrong (the cache may be behind): let the store decide.
    if (outcome.error || outcome.result->replayed) return false;
  }
  chain_hash last_hash{};
  try {
    pqxx::nontransaction tx(*connection_, "append");
    write_and_commit(tx, plan, kBeginAndLock + write_sql(tx, plan, last_hash));
  } catch (const pqxx::unique_violation&) {
    forget();
    roll_back();
    return false;
  } catch (...) {
    forget();
    roll_back();
    throw;
  }
  remember(plan, last_hash);
  answer(batch, plan);
  return true;
}

std::string append_writer::write_sql(pqxx::nontransaction& tx, const append_plan& plan,
                                     chain_hash& last_hash) const {
  // The writer, not the server, stamps recorded_at: the hash chain covers it, so its value must be
  // known before the row is written. Microseconds, as PostgreSQL keeps them.
  const auto recorded =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  chain_hash hash = plan.previous_hash();
  text_array_builder hashes;
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
    hash = audit::chain_link(hash, e.global_position, e.event->event_id, *e.stream_id,
                             e.stream_version, e.event->type, e.event->schema_version, recorded,
                             e.event->data, e.event->metadata);
    hashes.add(audit::to_hex(hash));
  }
  last_hash = hash;
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
  return execute_sql(
      tx, kWriteBatch,
      {int_array(positions), ids.finish(), streams.finish(), int_array(versions), types.finish(),
       int_array(schema_versions), data.finish(), metadata.finish(), key_actors.finish(),
       key_keys.finish(), key_fingerprints.finish(), key_results.finish(),
       std::to_string(plan.last_position()), std::to_string(recorded.time_since_epoch().count()),
       hashes.finish(), audit::to_hex(hash)});
}

}  // namespace realmkit::infra::postgres_detail

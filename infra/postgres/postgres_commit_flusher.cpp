#include "infra/postgres/postgres_commit_flusher.hpp"

#include <spdlog/spdlog.h>

#include "infra/postgres/postgres_connection.hpp"

namespace realmkit::infra::postgres_detail {
namespace {

// Raises the durable head to the committed head in a transaction that waits for its own flush;
// the NOTIFY (delivered at that commit) wakes every store's subscribers. event_position is read,
// not locked: a plain read does not wait for the append in progress and sees the last committed
// head, whose commit record precedes this one in the WAL.
constexpr const char* kFlushSql =
    "WITH durable AS ("
    "  UPDATE event_durable_position"
    "  SET last = GREATEST(last, (SELECT last FROM event_position))"
    "  RETURNING last"
    ") "
    "SELECT last, pg_notify($1, last::text) FROM durable";

}  // namespace

commit_flusher::commit_flusher(const postgres_store_options& options,
                               std::function<void(std::int64_t)> on_durable)
    : options_(options),
      channel_(notify_channel(options.schema)),
      on_durable_(std::move(on_durable)),
      rounds_("pg-flusher", [this](std::int64_t) { flush_round(); }) {}

std::int64_t commit_flusher::flush(pqxx::connection& connection, const std::string& channel) {
  // Whatever the server's default: this commit is the one that must wait for the disk. A session
  // setting, so it costs a round trip once per connection, not per flush.
  if (connection.get_variable("synchronous_commit") != "on") {
    connection.set_variable("synchronous_commit", "on");
  }
  pqxx::nontransaction tx(connection, "flush");
  return tx.exec_params1(kFlushSql, channel)[0].as<std::int64_t>();
}

void commit_flusher::ensure_connection() {
  if (connection_ && still_connected(*connection_)) return;
  if (connection_) spdlog::warn("PostgreSQL flusher for schema {} reconnects", options_.schema);
  connection_.reset();
  connection_ = open_connection(options_, "flusher");
  connection_->set_variable("synchronous_commit", "on");
}

void commit_flusher::flush_round() {
  try {
    if (options_.before_flush) options_.before_flush();
    ensure_connection();
    on_durable_(flush(*connection_, channel_));
  } catch (...) {
    if (connection_ && connection_lost(*connection_)) connection_.reset();
    try {
      rethrow_as_store_error("flushing committed appends");
    } catch (const store_error& e) {
      // The appends did commit; only their durability is unconfirmed.
      throw store_unavailable(std::string(e.what()) +
                              " (the append committed but its flush is unconfirmed: a retry with "
                              "the same event ids is safe)");
    }
  }
}

}  // namespace realmkit::infra::postgres_detail

// Group commit for the PostgreSQL store: append() queues the request and blocks; one writer
// thread takes everything queued, decides it (append_plan) and writes it in one transaction
// under the position lock, so concurrent appends share one round of statements and one fsync.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "infra/group_commit.hpp"
#include "infra/postgres/postgres_append_plan.hpp"
#include "infra/postgres/postgres_commit_flusher.hpp"
#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::infra::postgres_detail {

class append_writer {
 public:
  // `connection` is the migrated writer connection (reopened when it breaks); `on_durable` runs on
  // the flusher thread with the new durable head after each flush, before any waiter returns.
  append_writer(const postgres_store_options& options, std::unique_ptr<pqxx::connection> connection,
                std::function<void(std::int64_t)> on_durable);
  // Finishes what is queued, then stops the thread.
  ~append_writer();

  append_writer(const append_writer&) = delete;
  append_writer& operator=(const append_writer&) = delete;

  // Returns once the batch holding this append has committed and been flushed (acknowledged
  // means durable) or throws its refusal; a failed transaction fails every append in it with
  // store_unavailable.
  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key);

  // Appends queued and not yet taken into a transaction.
  std::size_t queue_depth() const {
    return queue_.size() + backlog_.load(std::memory_order_relaxed);
  }

 private:
  struct queued : flush_waiter {
    append_request request;
    std::size_t events = 0;
    std::size_t bytes = 0;
    append_result result;
    bool committed = false;  // decided in a transaction that committed: answer after the flush
  };

  void run();
  void gather(std::deque<queued*>& pending, std::size_t last_batch);
  void write_batch(std::span<queued* const> batch);
  void write_transaction(std::span<queued* const> batch);
  void ensure_connection();
  std::optional<batch_state> cached_state(std::span<const append_request> requests) const;
  bool write_optimistically(std::span<queued* const> batch,
                            std::span<const append_request> requests, batch_state state);
  void write_and_commit(pqxx::nontransaction& tx, const append_plan& plan, std::string write);
  void roll_back();
  void answer(std::span<queued* const> batch, const append_plan& plan);
  void remember(const append_plan& plan, const chain_hash& last_hash);
  void forget();
  // The statement that writes everything the plan accepted, and in `last_hash` the hash-chain link
  // of its last event.
  std::string write_sql(pqxx::nontransaction& tx, const append_plan& plan,
                        chain_hash& last_hash) const;

  const postgres_store_options& options_;
  std::unique_ptr<pqxx::connection> connection_;  // used by the writer thread only
  // What this writer committed last (writer thread only): the head after it and the versions
  // of the streams it wrote, trusted only as far as write_optimistically checks them.
  std::optional<std::int64_t> known_last_;
  chain_hash known_last_hash_{};  // the link of the event at known_last_
  std::unordered_map<std::string, std::int64_t> known_versions_;
  static constexpr std::size_t kMaxKnownStreams = 100'000;
  commit_flusher flusher_;

  group_commit_queue queue_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> backlog_{0};
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace realmkit::infra::postgres_detail

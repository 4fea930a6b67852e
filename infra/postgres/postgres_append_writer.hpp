// Group commit for the PostgreSQL store: append() queues the request and blocks; one writer
// thread takes everything queued, decides it (append_plan) and writes it in one transaction
// under the position lock, so concurrent appends share one round of statements and one fsync.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <span>
#include <thread>
#include <vector>

#include "infra/postgres/postgres_append_plan.hpp"
#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::infra::postgres_detail {

class append_writer {
 public:
  // `connection` is the migrated writer connection (reopened when it breaks); `on_commit` runs on
  // the writer thread with the new head position after each commit, before any waiter returns.
  append_writer(const postgres_store_options& options, std::unique_ptr<pqxx::connection> connection,
                std::function<void(std::int64_t)> on_commit);
  // Finishes what is queued, then stops the thread.
  ~append_writer();

  append_writer(const append_writer&) = delete;
  append_writer& operator=(const append_writer&) = delete;

  // Returns once the batch holding this append has committed (acknowledged means durable) or
  // throws its refusal; a failed transaction fails every append in it with store_unavailable.
  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key);

  // Appends queued and not yet taken into a transaction.
  std::size_t queue_depth() const;

 private:
  struct queued {
    append_request request;
    std::size_t events = 0;
    std::size_t bytes = 0;
    std::promise<append_result> done;
  };

  void run();
  void write_batch(std::span<queued* const> batch);
  void write_transaction(std::span<queued* const> batch);
  void ensure_connection();
  // Writes everything the plan accepted, in one statement.
  void write_rows(pqxx::nontransaction& tx, const append_plan& plan) const;

  const postgres_store_options& options_;
  const std::string channel_;
  std::function<void(std::int64_t)> on_commit_;
  std::unique_ptr<pqxx::connection> connection_;  // used by the writer thread only

  mutable std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable queued_cv_;
  std::deque<queued*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace realmkit::infra::postgres_detail

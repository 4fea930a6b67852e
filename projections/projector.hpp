// The projector runtime: one live runner per projection (catch up from its checkpoint, then follow
// the log), each batch's rows and checkpoint committed in one transaction, and rebuilds that fill
// a new generation beside the live one and switch to it atomically.
//
// Why it is shaped this way:
// - Independent progress: each projection has its own thread and database session, so a slow or
//   failed projection holds up no other.
// - Exactly-once effect: the catalog row of the generation is claimed at the start of every
//   batch (UPDATE ... WHERE position = <expected>) and advanced at its end, in the batch's
//   transaction. A second projector of the same projection (another process) waits on that row
//   and then finds the checkpoint moved: it reloads instead of applying the batch twice.
// - Failures stop loudly: an event that a projection cannot apply stops that projection at that
//   event (state "failed", error logged, metric, readiness degraded) — it is never skipped. A
//   database or store outage is retried after a delay.
// - Rebuilds never take the read model offline: the new generation catches up on its own thread;
//   in the transaction of its last batch it takes the live row's lock, applies whatever the live
//   generation had applied beyond it, and switches the stable views, so readers see either the
//   old generation or the new one, at a position no lower than before.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "infra/event_store.hpp"
#include "infra/metrics.hpp"
#include "infra/sql/sql_database.hpp"
#include "projections/projection.hpp"

namespace realmkit::projections {

struct projector_options {
  // Events per transaction while following the log, and while building a generation (and at
  // most while catching up). A record changed many times within a rebuild batch is written once,
  // which is most of a rebuild's speed; batches are folded before their transaction opens, so
  // the size does not lengthen how long the database is locked by much.
  std::size_t live_batch_events = 500;
  std::size_t rebuild_batch_events = 50'000;
  // How long an idle runner waits for appends before looking again (stop, rebuild requests).
  std::chrono::milliseconds idle_wait{200};
  // After a database or store outage, how long to wait before trying again.
  std::chrono::milliseconds retry_delay{1'000};
  // Start rebuilding a projection whose live generation was written by another version.
  bool rebuild_changed_versions = true;
  infra::metrics_registry* metrics = nullptr;
  // Tests: runs inside every batch's transaction just before commit, with the projection's name,
  // the generation and the position the batch reaches. It may block, or throw to fail the batch.
  std::function<void(std::string_view, std::int64_t, std::int64_t)> before_commit;
};

enum class projection_state {
  starting,     // setting up its generation
  catching_up,  // behind the head by more than a batch
  live,         // following the head
  retrying,     // the database or store failed; trying again after a delay
  failed,       // an event could not be applied: stopped at it until restarted or rebuilt
  stopped,
};
std::string_view to_string(projection_state state);

struct rebuild_progress {
  std::int64_t generation = 0;
  std::int64_t checkpoint = 0;
  std::optional<std::string> error;  // the rebuild stopped at an event (the live one serves on)
};

struct projection_status {
  std::string name;
  int version = 0;
  std::int64_t generation = 0;  // the live generation
  projection_state state = projection_state::starting;
  std::int64_t checkpoint = 0;  // global position of the last event applied to the live generation
  std::int64_t head = 0;        // the log's head when last looked at
  std::int64_t lag_events = 0;  // head - checkpoint
  double lag_seconds = 0;       // age of the oldest event not yet applied (0 when caught up)
  std::uint64_t events_applied = 0;  // by this process since start
  std::optional<std::string> error;
  std::optional<rebuild_progress> rebuild;
};

class unknown_projection : public std::invalid_argument {
 public:
  explicit unknown_projection(const std::string& name)
      : std::invalid_argument("no projection is named '" + name + "'"), name_(name) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

class projector {
 public:
  // The store, database and projections must outlive the projector. Nothing runs before start().
  projector(infra::event_store& store, infra::sql::database& db,
            std::vector<std::shared_ptr<const projection>> projections,
            projector_options options = {});
  ~projector();
  projector(const projector&) = delete;
  projector& operator=(const projector&) = delete;

  // Starts one runner per projection (creating first generations, resuming checkpoints, resuming
  // or starting rebuilds). Returns at once.
  void start();
  // Instead of start(), in a process without the projector role: applies nothing, and follows
  // the checkpoints other processes' projectors commit (polled from the catalog), so status(),
  // position() and wait_for() (read-your-writes) answer as they would beside a projector.
  void observe();
  // Stops every runner after its current batch, or the observer. Idempotent.
  void stop();

  std::vector<projection_status> status() const;
  std::optional<projection_status> status(std::string_view name) const;
  // False when a projection has failed (readiness reports it).
  bool healthy() const;
  // The names of the projections, in registration order.
  std::vector<std::string> names() const;

  // The live checkpoint of a projection (throws unknown_projection).
  std::int64_t position(std::string_view name) const;
  // Blocks until every named projection (all when empty) has applied `position`, or the timeout
  // passes; true when reached. Throws unknown_projection.
  bool wait_for(std::int64_t position, std::chrono::milliseconds timeout,
                std::span<const std::string> names = {}) const;

  // Starts building a new generation of a projection beside the live one; it replaces the live
  // one once caught up. Returns the new generation's number, or the one already building. Throws
  // unknown_projection.
  std::int64_t rebuild(std::string_view name);
  // Blocks until no rebuild of the projection is running, or the timeout passes; true when none.
  bool wait_for_rebuild(std::string_view name, std::chrono::milliseconds timeout) const;

 private:
  class runner;
  runner& runner_for(std::string_view name) const;

  infra::event_store& store_;
  infra::sql::database& db_;
  projector_options options_;
  std::vector<std::unique_ptr<runner>> runners_;
  bool started_ = false;

  void run_observer();
  std::mutex observer_mutex_;  // guards observer_stopping_
  std::condition_variable observer_wake_;
  bool observer_stopping_ = false;
  std::thread observer_;
};

}  // namespace realmkit::projections

#include "projections/projector.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>
#include <unordered_map>

#include "projections/catalog.hpp"

namespace realmkit::projections {

namespace sql = infra::sql;
using clock = std::chrono::steady_clock;

std::string_view to_string(projection_state state) {
  switch (state) {
    case projection_state::starting:
      return "starting";
    case projection_state::catching_up:
      return "catching_up";
    case projection_state::live:
      return "live";
    case projection_state::retrying:
      return "retrying";
    case projection_state::failed:
      return "failed";
    case projection_state::stopped:
      return "stopped";
  }
  return {};
}

namespace {

// An event the projection could not apply, or rows it could not write: deterministic, so
// retrying would fail the same way. The projection stops here.
class apply_failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

bool is_transient(const std::exception& e) {
  if (const auto* s = dynamic_cast<const sql::error*>(&e)) return s->transient();
  return dynamic_cast<const infra::store_unavailable*>(&e) != nullptr;
}

std::string describe(const infra::recorded_event& e) {
  return "position " + std::to_string(e.global_position) + " (" + e.type + ", stream " +
         e.stream_id + ")";
}

double seconds_since(infra::timestamp t) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  return std::max(0.0, std::chrono::duration<double>(now - t).count());
}

// Reads the next batch of the log on another thread while this one is applied: on a long
// catch-up or a rebuild, reading and decoding events costs about as much as folding them.
class read_ahead {
 public:
  explicit read_ahead(infra::event_store& store) : store_(store) {}
  ~read_ahead() { drop(); }
  read_ahead(const read_ahead&) = delete;
  read_ahead& operator=(const read_ahead&) = delete;

  // The events after `from`, from the read started by prefetch when it asked for the same.
  std::vector<infra::recorded_event> read(std::int64_t from, std::size_t max) {
    if (pending_.valid() && from_ == from && max_ == max) return pending_.get();
    drop();
    return store_.read_all(from, max);
  }

  void prefetch(std::int64_t from, std::size_t max) {
    drop();
    from_ = from;
    max_ = max;
    pending_ = std::async(std::launch::async,
                          [&store = store_, from, max] { return store.read_all(from, max); });
  }

  // Forgets a read in flight (waiting for it: it uses the store).
  void drop() noexcept {
    if (!pending_.valid()) return;
    try {
      pending_.get();
    } catch (...) {  // nobody asked for it; the next read reports what still fails
    }
  }

 private:
  infra::event_store& store_;
  std::future<std::vector<infra::recorded_event>> pending_;
  std::int64_t from_ = 0;
  std::size_t max_ = 0;
};

struct runner_metrics {
  infra::gauge* checkpoint = nullptr;
  infra::gauge* lag_events = nullptr;
  infra::gauge* lag_seconds = nullptr;
  infra::gauge* failed = nullptr;
  infra::counter* events = nullptr;
  infra::counter* failures = nullptr;
  infra::histogram* batch_seconds = nullptr;
  infra::histogram* delay_seconds = nullptr;
};

}  // namespace

class projector::runner {
 public:
  runner(projector& owner, std::shared_ptr<const projection> def)
      : owner_(owner), def_(std::move(def)), name_(def_->name()) {
    status_.name = name_;
    status_.version = def_->version();
    if (auto* m = owner_.options_.metrics) {
      const infra::metric_labels labels{{"projection", name_}};
      metrics_.checkpoint =
          &m->gauge_for("realmkit_projection_checkpoint",
                        "Global position the live read model has applied", labels);
      metrics_.lag_events =
          &m->gauge_for("realmkit_projection_lag_events",
                        "Events between the log's head and the checkpoint", labels);
      metrics_.lag_seconds =
          &m->gauge_for("realmkit_projection_lag_seconds",
                        "Age of the oldest event the projection has not applied yet", labels);
      metrics_.failed =
          &m->gauge_for("realmkit_projection_failed",
                        "1 while the projection is stopped at an event it cannot apply", labels);
      metrics_.events = &m->counter_for("realmkit_projection_events_total",
                                        "Events applied to the live generation", labels);
      metrics_.failures = &m->counter_for(
          "realmkit_projection_failures_total",
          "Batches that failed (database or store outages, events that cannot be applied)", labels);
      metrics_.batch_seconds =
          &m->histogram_for("realmkit_projection_batch_seconds",
                            "Time to apply and commit one batch", infra::latency_buckets(), labels);
      metrics_.delay_seconds =
          &m->histogram_for("realmkit_projection_delay_seconds",
                            "From an event's commit to its projection's commit, following the head",
                            infra::latency_buckets(), labels);
    }
  }

  ~runner() { stop(); }

  const projection& def() const { return *def_; }
  const std::string& name() const { return name_; }

  void start() {
    std::lock_guard lock(mutex_);
    if (live_thread_.joinable()) return;
    stopping_ = false;
    live_thread_ = std::thread([this] { run_live(); });
  }

  // The observer's view of a checkpoint another process committed.
  void observed(std::int64_t generation, std::int64_t checkpoint, std::int64_t head) {
    {
      std::lock_guard lock(mutex_);
      status_.generation = generation;
      status_.checkpoint = checkpoint;
      status_.head = std::max(head, checkpoint);
      status_.lag_events = status_.head - checkpoint;
      status_.state =
          status_.lag_events > static_cast<std::int64_t>(owner_.options_.live_batch_events)
              ? projection_state::catching_up
              : projection_state::live;
      status_.error.reset();
    }
    changed_.notify_all();
    if (metrics_.checkpoint) {
      metrics_.checkpoint->set(static_cast<double>(checkpoint));
      metrics_.lag_events->set(static_cast<double>(std::max<std::int64_t>(0, head - checkpoint)));
    }
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    if (live_thread_.joinable()) live_thread_.join();
    if (build_thread_.joinable()) build_thread_.join();
    std::lock_guard lock(mutex_);
    if (status_.state != projection_state::failed) status_.state = projection_state::stopped;
  }

  projection_status status() const {
    std::lock_guard lock(mutex_);
    return status_;
  }

  std::int64_t position() const {
    std::lock_guard lock(mutex_);
    return status_.checkpoint;
  }

  bool wait_for(std::int64_t position, clock::time_point deadline) const {
    std::unique_lock lock(mutex_);
    // Until a live generation exists (another process may not have created it yet) there are
    // no relations to read, whatever the position.
    return changed_.wait_until(lock, deadline, [&] {
      return status_.generation > 0 && status_.checkpoint >= position;
    });
  }

  bool wait_for_rebuild(clock::time_point deadline) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] { return !building_; });
  }

  std::int64_t request_rebuild() {
    auto session = owner_.db_.open_session();
    std::int64_t generation = 0;
    {
      sql::transaction txn(*session);
      if (auto b = building_generation(*session, name_)) {
        generation = b->generation;
      } else {
        generation = create_generation(*session, *def_, generation_state::building).generation;
      }
      txn.commit();
    }
    spdlog::info("projection {}: rebuilding into generation {}", name_, generation);
    start_builder();
    return generation;
  }

 private:
  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // Sleeps until the delay passes or stop() is called.
  void pause(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, delay, [&] { return stopping_; });
  }

  // A session for applying batches. On PostgreSQL its commits do not wait for the WAL flush:
  // a read model is rebuilt from events, and its rows commit atomically with their checkpoint,
  // so a crash of the server loses the last batches whole and they are simply applied again,
  // while every batch saves an fsync (milliseconds on this kind of disk).
  std::unique_ptr<sql::session> open_writer_session() {
    auto session = owner_.db_.open_session();
    if (session->dialect() == sql::dialect::postgres) {
      session->exec_script("SET synchronous_commit = off");
    }
    return session;
  }

  void start_builder() {
    std::lock_guard lock(mutex_);
    if (building_ || stopping_) return;
    if (build_thread_.joinable()) build_thread_.join();  // a finished earlier rebuild
    building_ = true;
    status_.rebuild = rebuild_progress{};
    build_thread_ = std::thread([this] { run_build(); });
  }

  // Applies events to a generation in one transaction with its checkpoint. False when the
  // generation's row could not be claimed at `from` (another writer moved it, or the generation
  // was switched or retired): nothing was applied. With `switch_after`, the transaction also
  // catches up with the live generation and makes this one live.
  struct batch_result {
    bool claimed = false;
    std::int64_t reached = 0;
  };
  // Where a rebuild's time went, logged when it switches: reading the log, folding events in the
  // writer, writing rows, committing.
  struct phase_times {
    clock::duration read{}, apply{}, write{}, commit{};
  };
  batch_result apply_batch(sql::session& session, projection_writer& writer,
                           std::int64_t generation, generation_state state, std::int64_t from,
                           const std::vector<infra::recorded_event>& events, apply_mode mode,
                           bool fresh, bool switch_after, phase_times* times = nullptr) {
    const relation_names names(generation);
    auto lap = clock::now();
    auto time_to = [&](clock::duration phase_times::*phase) {
      const auto now = clock::now();
      if (times) times->*phase += now - lap;
      lap = now;
    };
    apply_context ctx{session, names, mode, fresh};
    std::int64_t reached = from;
    auto apply_all = [&](const std::vector<infra::recorded_event>& batch) {
      for (const auto& e : batch) {
        if (def_->handles(e.type)) {
          try {
            writer.apply(e, ctx);
          } catch (const std::exception& error) {
            if (is_transient(error)) throw;
            throw apply_failure("cannot apply the event at " + describe(e) + ": " + error.what());
          }
        }
        reached = e.global_position;
      }
    };
    // Applied before the transaction opens, so the write lock (all of SQLite's file) is held only
    // while rows are written. Reads the writer makes here see what the generation committed; only
    // the claim's holder writes it, and a claim that fails below discards all of it.
    try {
      apply_all(events);
    } catch (const apply_failure&) {
      // What the writer read may be another projector's newer rows: it failed on a generation
      // that moved on, which is no failure of the event. Only a failure on the checkpoint this
      // batch started from (it never moves back) is the event's.
      sql::transaction check(session);
      if (!claim_batch(session, name_, generation, state, from)) return {};
      throw;
    }
    time_to(&phase_times::apply);
    // Nothing is written yet: a transaction that cannot begin (the database locked longer than
    // the timeouts) is begun again rather than dropping what the batch folded.
    std::optional<sql::transaction> txn;
    for (int attempt = 1; !txn; ++attempt) {
      try {
        txn.emplace(session);
      } catch (const sql::error& error) {
        if (!error.transient() || attempt == 5 || stopping()) throw;
        spdlog::debug("projection {}: beginning a batch again after: {}", name_, error.what());
      }
    }
    if (!claim_batch(session, name_, generation, state, from)) return {};
    if (switch_after) {
      // The live generation may have applied events beyond this one's batch: apply them here,
      // under the live row's lock, so the switch never moves readers backwards.
      const auto live = lock_live(session, name_);
      while (live && reached < live->position) {
        const auto more = owner_.store_.read_all(
            reached, static_cast<std::size_t>(std::min<std::int64_t>(
                         static_cast<std::int64_t>(owner_.options_.rebuild_batch_events),
                         live->position - reached)));
        if (more.empty()) break;
        apply_all(more);
      }
    }
    time_to(&phase_times::apply);
    try {
      writer.flush(ctx);
    } catch (const std::exception& error) {
      if (is_transient(error)) throw;
      throw apply_failure(std::string("cannot write the rows of the batch ending at position ") +
                          std::to_string(reached) + ": " + error.what());
    }
    advance(session, name_, generation, reached);
    if (switch_after) switch_live(session, *def_, generation);
    if (owner_.options_.before_commit) owner_.options_.before_commit(name_, generation, reached);
    time_to(&phase_times::write);
    txn->commit();
    time_to(&phase_times::commit);
    return {true, reached};
  }

  struct live_setup {
    generation_row live;
    bool fresh = false;
    bool stale_version = false;
  };

  // Finds (or on first start creates) the live generation; starts a rebuild when the live one was
  // written by another version of the projection, or when one was left building.
  live_setup setup(sql::session& session) {
    // Two projectors starting together may both try to create the first generation: the loser's
    // insert collides with the winner's row, and a second look finds it.
    for (int attempt = 1;; ++attempt) {
      try {
        return try_setup(session);
      } catch (const sql::error& error) {
        if (error.transient() || attempt == 3) throw;
        spdlog::debug("projection {}: setting up again after: {}", name_, error.what());
      }
    }
  }

  live_setup try_setup(sql::session& session) {
    live_setup out;
    bool start_build = false;
    {
      sql::transaction txn(session);
      auto live = live_generation(session, name_);
      if (!live) {
        live = create_generation(session, *def_, generation_state::live);
        out.fresh = true;
      }
      out.live = *live;
      out.stale_version = live->version != def_->version();
      auto building = building_generation(session, name_);
      if (!building && out.stale_version && owner_.options_.rebuild_changed_versions) {
        building = create_generation(session, *def_, generation_state::building);
        spdlog::info(
            "projection {}: live generation {} has version {}, this is {}: rebuilding "
            "into generation {}",
            name_, live->generation, live->version, def_->version(), building->generation);
      }
      start_build = building.has_value();
      txn.commit();
    }
    // Retired generations left by a rebuild that stopped before dropping them. Another runner
    // may be dropping them at the same moment; whoever loses leaves them to the winner.
    try {
      sql::transaction txn(session);
      drop_retired(session, *def_);
      txn.commit();
    } catch (const sql::error& error) {
      spdlog::warn("projection {}: dropping retired generations: {}", name_, error.what());
    }
    if (start_build) start_builder();
    return out;
  }

  void record_batch(const std::vector<infra::recorded_event>& events, std::size_t batch_size,
                    std::int64_t reached, std::int64_t head, clock::duration took) {
    const bool more = events.size() >= batch_size;
    const double lag_seconds = more ? seconds_since(events.back().recorded_at) : 0.0;
    {
      std::lock_guard lock(mutex_);
      status_.checkpoint = reached;
      status_.head = std::max(head, reached);
      status_.lag_events = status_.head - reached;
      status_.lag_seconds = lag_seconds;
      status_.events_applied += events.size();
      status_.state = more ? projection_state::catching_up : projection_state::live;
      status_.error.reset();
    }
    changed_.notify_all();
    if (metrics_.checkpoint) {
      metrics_.checkpoint->set(static_cast<double>(reached));
      metrics_.lag_events->set(static_cast<double>(std::max<std::int64_t>(0, head - reached)));
      metrics_.lag_seconds->set(lag_seconds);
      metrics_.events->inc(events.size());
      metrics_.batch_seconds->observe(std::chrono::duration<double>(took).count());
      if (!more) {
        for (const auto& e : events) metrics_.delay_seconds->observe(seconds_since(e.recorded_at));
      }
    }
  }

  void record_generation(const generation_row& live) {
    {
      std::lock_guard lock(mutex_);
      status_.generation = live.generation;
      status_.checkpoint = live.position;
      if (status_.state == projection_state::starting ||
          status_.state == projection_state::retrying) {
        status_.state = projection_state::catching_up;
      }
    }
    changed_.notify_all();
    if (metrics_.checkpoint) metrics_.checkpoint->set(static_cast<double>(live.position));
  }

  void record_failure(const std::exception& error, bool transient) {
    {
      std::lock_guard lock(mutex_);
      status_.state = transient ? projection_state::retrying : projection_state::failed;
      status_.error = error.what();
    }
    changed_.notify_all();
    if (metrics_.failures) {
      metrics_.failures->inc();
      if (!transient) metrics_.failed->set(1);
    }
    if (transient) {
      spdlog::warn("projection {}: {}; retrying in {} ms", name_, error.what(),
                   owner_.options_.retry_delay.count());
    } else {
      spdlog::error("projection {} stopped: {}", name_, error.what());
    }
  }

  void run_live() {
    std::unique_ptr<sql::session> session;
    std::unique_ptr<projection_writer> writer;
    std::int64_t generation = 0;
    std::int64_t position = 0;
    bool fresh = false;
    bool stale = false;
    std::size_t batch_size = owner_.options_.live_batch_events;
    read_ahead ahead(owner_.store_);
    while (!stopping()) {
      try {
        if (!session) session = open_writer_session();
        if (!writer) {
          const auto s = setup(*session);
          generation = s.live.generation;
          position = s.live.position;
          stale = s.stale_version;
          fresh = s.fresh;
          writer = adopt(generation, position);
          if (writer) fresh = adopted_fresh_;
          if (!writer) writer = def_->open(relation_names(generation));
          record_generation(s.live);
        }
        if (stale) {
          // The live generation was written by another version of this projection: it keeps
          // serving as it is until the rebuild replaces it.
          pause(owner_.options_.idle_wait);
          if (const auto live = live_generation(*session, name_);
              !live || live->generation != generation) {
            writer.reset();
          }
          continue;
        }
        auto events = ahead.read(position, batch_size);
        // Catching up (a full batch): the next one is read while this one is applied.
        if (events.size() >= batch_size && batch_size > owner_.options_.live_batch_events) {
          ahead.prefetch(events.back().global_position,
                         std::min(batch_size * 4, std::max(owner_.options_.live_batch_events,
                                                           owner_.options_.rebuild_batch_events)));
        }
        if (events.empty()) {
          {
            std::lock_guard lock(mutex_);
            status_.state = projection_state::live;
            status_.head = std::max(status_.head, position);
            status_.lag_events = status_.head - position;
            status_.lag_seconds = 0;
          }
          if (metrics_.lag_seconds) metrics_.lag_seconds->set(0);
          if (has_handover()) {
            writer->discard();
            writer.reset();
            continue;
          }
          owner_.store_.wait_for_append(position, owner_.options_.idle_wait);
          continue;
        }
        const auto started = clock::now();
        const auto result = apply_batch(*session, *writer, generation, generation_state::live,
                                        position, events, apply_mode::live, fresh, false);
        if (!result.claimed) {
          // Another projector moved the checkpoint, or a rebuild replaced this generation.
          writer->discard();
          writer.reset();
          continue;
        }
        writer->committed();
        position = result.reached;
        const bool full = events.size() >= batch_size;
        const auto head = full ? owner_.store_.head_position() : position;
        record_batch(events, batch_size, position, head, clock::now() - started);
        // Far behind (a first catch-up over a long log): batches grow, up to a rebuild's, since
        // per-batch costs dominate small ones; back at the head they shrink to the live size.
        batch_size = full ? std::min(batch_size * 4, std::max(owner_.options_.live_batch_events,
                                                              owner_.options_.rebuild_batch_events))
                          : owner_.options_.live_batch_events;
      } catch (const std::exception& error) {
        if (writer) writer->discard();
        writer.reset();
        const bool transient = is_transient(error);
        record_failure(error, transient);
        if (!transient) return;
        session.reset();
        pause(owner_.options_.retry_delay);
      }
    }
  }

  bool has_handover() const {
    std::lock_guard lock(mutex_);
    return handover_.has_value();
  }

  // The writer a finished rebuild left for this generation (with its warm caches), if any.
  std::unique_ptr<projection_writer> adopt(std::int64_t generation, std::int64_t position) {
    std::lock_guard lock(mutex_);
    if (!handover_) return nullptr;
    auto h = std::move(*handover_);
    handover_.reset();
    if (h.generation != generation || h.position != position) return nullptr;
    adopted_fresh_ = h.fresh;
    return std::move(h.writer);
  }

  void run_build() {
    std::unique_ptr<sql::session> session;
    std::unique_ptr<projection_writer> writer;
    std::optional<generation_row> building;
    bool fresh = false;
    phase_times times;
    read_ahead ahead(owner_.store_);
    auto finish = [&](std::optional<std::string> error) {
      {
        std::lock_guard lock(mutex_);
        building_ = false;
        if (error) {
          if (status_.rebuild) status_.rebuild->error = std::move(error);
        } else {
          status_.rebuild.reset();
        }
      }
      changed_.notify_all();
    };
    while (!stopping()) {
      try {
        if (!session) session = open_writer_session();
        if (!building) {
          building = building_generation(*session, name_);
          if (!building) return finish(std::nullopt);  // switched or cancelled elsewhere
          fresh = building->position == 0;
          writer = def_->open(relation_names(building->generation));
          std::lock_guard lock(mutex_);
          status_.rebuild = rebuild_progress{building->generation, building->position, {}};
        }
        const auto batch = owner_.options_.rebuild_batch_events;
        const auto read_start = clock::now();
        const auto events = ahead.read(building->position, batch);
        times.read += clock::now() - read_start;
        const bool near_head = events.size() < batch;
        if (!near_head) ahead.prefetch(events.back().global_position, batch);
        const auto result =
            apply_batch(*session, *writer, building->generation, generation_state::building,
                        building->position, events, apply_mode::rebuild, fresh, near_head, &times);
        if (!result.claimed) {
          // Another process took this rebuild over, or it was switched: look again.
          writer->discard();
          writer.reset();
          building.reset();
          continue;
        }
        building->position = result.reached;
        if (near_head) {
          const auto ms = [](clock::duration d) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
          };
          spdlog::info(
              "projection {}: generation {} is live at position {} (read {} ms, apply {} ms, "
              "write {} ms, commit {} ms)",
              name_, building->generation, result.reached, ms(times.read), ms(times.apply),
              ms(times.write), ms(times.commit));
          {
            std::lock_guard lock(mutex_);
            handover_ = handover{building->generation, result.reached, std::move(writer), fresh};
            // Readers see the new generation from this commit on; the live runner adopts it at
            // its next look.
            status_.generation = building->generation;
            status_.checkpoint = std::max(status_.checkpoint, result.reached);
          }
          changed_.notify_all();
          sql::transaction txn(*session);
          drop_retired(*session, *def_);
          txn.commit();
          return finish(std::nullopt);
        }
        std::lock_guard lock(mutex_);
        if (status_.rebuild) status_.rebuild->checkpoint = result.reached;
      } catch (const std::exception& error) {
        if (writer) writer->discard();
        writer.reset();
        building.reset();
        if (!is_transient(error)) {
          spdlog::error("projection {}: rebuild stopped: {}", name_, error.what());
          if (metrics_.failures) metrics_.failures->inc();
          return finish(error.what());
        }
        spdlog::warn("projection {}: rebuild: {}; retrying in {} ms", name_, error.what(),
                     owner_.options_.retry_delay.count());
        session.reset();
        pause(owner_.options_.retry_delay);
      }
    }
    finish(std::nullopt);
  }

  struct handover {
    std::int64_t generation = 0;
    std::int64_t position = 0;
    std::unique_ptr<projection_writer> writer;
    bool fresh = false;
  };

  projector& owner_;
  std::shared_ptr<const projection> def_;
  std::string name_;
  runner_metrics metrics_;

  mutable std::mutex mutex_;  // guards everything below
  mutable std::condition_variable changed_;
  projection_status status_;
  bool stopping_ = false;
  bool building_ = false;
  std::optional<handover> handover_;
  bool adopted_fresh_ = false;
  std::thread live_thread_;
  std::thread build_thread_;
};

projector::projector(infra::event_store& store, sql::database& db,
                     std::vector<std::shared_ptr<const projection>> projections,
                     projector_options options)
    : store_(store), db_(db), options_(std::move(options)) {
  for (auto& p : projections) {
    for (const auto& r : runners_) {
      if (r->name() == p->name()) {
        throw std::invalid_argument("two projections are named " + std::string(p->name()));
      }
    }
    runners_.push_back(std::make_unique<runner>(*this, std::move(p)));
  }
}

projector::~projector() {
  stop();
}

void projector::start() {
  if (started_) return;
  started_ = true;
  for (auto& r : runners_) r->start();
}

void projector::observe() {
  if (started_) return;
  started_ = true;
  observer_ = std::thread([this] { run_observer(); });
}

void projector::stop() {
  if (observer_.joinable()) {
    {
      std::lock_guard lock(observer_mutex_);
      observer_stopping_ = true;
    }
    observer_wake_.notify_all();
    observer_.join();
  }
  for (auto& r : runners_) r->stop();
}

void projector::run_observer() {
  // While a projection is behind the head, the checkpoints are polled often, so a request
  // waiting on min_position is answered soon after the commit that reaches it; less often while
  // nothing moves (a projection stopped in its own process must not cost a query per 5 ms).
  constexpr auto kFastPoll = std::chrono::milliseconds{5};
  constexpr auto kSlowPoll = std::chrono::milliseconds{200};
  auto poll = kFastPoll;
  std::int64_t last_progress = -1;
  std::unique_ptr<sql::session> session;
  auto stopping = [this](std::chrono::milliseconds pause) {
    std::unique_lock lock(observer_mutex_);
    return observer_wake_.wait_for(lock, pause, [this] { return observer_stopping_; });
  };
  while (true) {
    bool behind = false;
    try {
      if (!session) session = db_.open_session();
      const auto head = store_.head_position();
      std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> live;
      std::int64_t progress = 0;
      for (const auto& row :
           session->query("SELECT projection, generation, position FROM projection_generations "
                          "WHERE state = 'live'")) {
        live[row.text(0)] = {row.integer(1), row.integer(2)};
        progress += row.integer(2);
      }
      poll = progress != last_progress ? kFastPoll : std::min(poll * 2, kSlowPoll);
      last_progress = progress;
      for (auto& r : runners_) {
        const auto found = live.find(r->name());
        if (found == live.end()) {
          behind = true;  // its first generation is not created yet
          continue;
        }
        r->observed(found->second.first, found->second.second, head);
        behind = behind || found->second.second < head;
      }
      if (!behind) {
        if (stopping(std::chrono::milliseconds{0})) return;
        store_.wait_for_append(head, options_.idle_wait);
        last_progress = -1;  // new events: poll fast again
        continue;
      }
    } catch (const std::exception& e) {
      spdlog::warn("projections: reading the checkpoints failed (retrying): {}", e.what());
      session.reset();
      if (stopping(options_.retry_delay)) return;
      continue;
    }
    if (stopping(poll)) return;
  }
}

std::vector<projection_status> projector::status() const {
  std::vector<projection_status> out;
  out.reserve(runners_.size());
  for (const auto& r : runners_) out.push_back(r->status());
  return out;
}

std::optional<projection_status> projector::status(std::string_view name) const {
  for (const auto& r : runners_) {
    if (r->name() == name) return r->status();
  }
  return std::nullopt;
}

bool projector::healthy() const {
  for (const auto& r : runners_) {
    if (r->status().state == projection_state::failed) return false;
  }
  return true;
}

std::vector<std::string> projector::names() const {
  std::vector<std::string> out;
  for (const auto& r : runners_) out.push_back(r->name());
  return out;
}

projector::runner& projector::runner_for(std::string_view name) const {
  for (const auto& r : runners_) {
    if (r->name() == name) return *r;
  }
  throw unknown_projection(std::string(name));
}

std::int64_t projector::position(std::string_view name) const {
  return runner_for(name).position();
}

bool projector::wait_for(std::int64_t position, std::chrono::milliseconds timeout,
                         std::span<const std::string> names) const {
  const auto deadline = clock::now() + timeout;
  if (names.empty()) {
    for (const auto& r : runners_) {
      if (!r->wait_for(position, deadline)) return false;
    }
    return true;
  }
  for (const auto& name : names) {
    if (!runner_for(name).wait_for(position, deadline)) return false;
  }
  return true;
}

std::int64_t projector::rebuild(std::string_view name) {
  return runner_for(name).request_rebuild();
}

bool projector::wait_for_rebuild(std::string_view name, std::chrono::milliseconds timeout) const {
  return runner_for(name).wait_for_rebuild(clock::now() + timeout);
}

}  // namespace realmkit::projections

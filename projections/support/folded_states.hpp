// What writers that fold an aggregate's events into its state share (duplicates, reminders): the
// states kept between batches, each read back from its row's `doc` column when the writer no
// longer holds it, and written by the writer's flush when an event changed it.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>

#include "infra/event_codec.hpp"
#include "projections/projection.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::support {

template <class State>
class folded_states {
 public:
  struct entry {
    State state;
    bool dirty = false;   // changed since the last flush
    bool stored = false;  // its row exists: a rebuild's first write has nothing to delete
  };

  // `table` (quoted) holds the states as JSON in `doc`, one row per `key` (a column name).
  folded_states(std::string table, std::string key, std::size_t max_cached = 50'000)
      : table_(std::move(table)), key_(std::move(key)), max_cached_(max_cached) {}

  // The state of `id`: held, else read from its row, else a new one.
  entry& at(const std::string& id, apply_context& ctx) {
    if (const auto it = cache_.find(id); it != cache_.end()) return it->second;
    entry loaded;
    // A generation this writer started empty, and of which it forgot nothing, has no row the
    // cache lacks.
    if (!(ctx.fresh && !forgot_)) {
      const infra::sql::value params[] = {id};
      const auto rows =
          ctx.db.query("SELECT doc FROM " + table_ + " WHERE " + key_ + " = $1", params);
      if (!rows.empty()) {
        loaded.state = infra::from_json<State>(rows.front().text(0));
        loaded.stored = true;
      }
    }
    return cache_.emplace(id, std::move(loaded)).first->second;
  }

  // Calls write(id, entry) for every state changed since the last flush.
  template <class Write>
  void write_changed(Write&& write) {
    for (auto& [id, e] : cache_) {
      if (!e.dirty) continue;
      e.dirty = false;
      write(id, e);
    }
  }

  // After a flush: beyond the limit, every state is dropped and read back when needed.
  void trim() {
    if (cache_.size() > max_cached_) forget();
  }

  // The batch rolled back: what is held may be ahead of the rows.
  void forget() noexcept {
    cache_.clear();
    forgot_ = true;
  }

 private:
  std::string table_;
  std::string key_;
  std::size_t max_cached_;
  std::unordered_map<std::string, entry> cache_;
  bool forgot_ = false;  // states were dropped: a miss must look at the rows
};

// A writer whose rows follow from one aggregate's folded state: apply folds each event into the
// state of the aggregate it names, flush hands every changed state to write(), which buffers its
// rows' statements in batch_.
template <class Aggregate>
class folded_state_writer : public projection_writer {
 public:
  using state = typename Aggregate::state;
  using event = typename Aggregate::event;
  using entry = typename folded_states<state>::entry;

  void apply(const infra::recorded_event& e, apply_context& ctx) override {
    const auto decoded = infra::decode_event<event>(e);
    auto& cached = states_.at(id_of(decoded), ctx);
    cached.state = evolve(std::move(cached.state), decoded);
    cached.dirty = true;
  }

  void flush(apply_context& ctx) override {
    states_.write_changed([&](const std::string& id, entry& cached) { write(id, cached); });
    batch_.run(ctx.db);
    states_.trim();
  }

  void discard() noexcept override {
    batch_.clear();
    states_.forget();
  }

 protected:
  // `table` (quoted) keeps each state in its `doc` column, one row per `key`.
  folded_state_writer(std::string table, std::string key)
      : states_(std::move(table), std::move(key)) {}

  // The aggregate an event belongs to.
  virtual std::string id_of(const event& e) const = 0;
  // Buffers in batch_ the statements that bring the rows of `id` to `cached.state`, and sets
  // cached.stored to whether a row now holds it.
  virtual void write(const std::string& id, entry& cached) = 0;

  statement_batch batch_;

 private:
  folded_states<state> states_;
};

}  // namespace realmkit::projections::support

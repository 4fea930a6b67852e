// What a projection is to the runtime. A projection turns events into rows of read-model relations
// (tables, and on PostgreSQL materialized views). Its relations exist in generations: the live
// generation serves queries through stable views named after the relations, while a rebuild fills
// the next generation beside it from position 0 and then takes its place in one transaction.
//
// A projection is a definition (name, version, relations, the events it handles) that opens a
// writer for one generation. The runtime hands the writer batches of events inside a transaction;
// the writer may read its own relations through the session (a row it has not cached) and
// buffers its changes, which flush() writes before the runtime records the checkpoint and commits.
// So a batch's rows and its checkpoint commit together or not at all (ARCHITECTURE §3, 5).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::projections {

// The physical names of one generation's relations: "<relation>_g<generation>". Readers use the
// stable view "<relation>" instead, which the runtime points at the live generation.
class relation_names {
 public:
  explicit relation_names(std::int64_t generation) : generation_(generation) {}
  std::int64_t generation() const { return generation_; }
  // The physical name of a relation in this generation, unquoted ("rm_deals_g3").
  std::string operator()(std::string_view relation) const;

 private:
  std::int64_t generation_;
};

// How the runtime is feeding a writer.
enum class apply_mode {
  live,     // following the head of the log: small batches, room messages are published
  rebuild,  // building a generation from position 0: large batches, no room messages
};

// What a writer sees while it applies a batch.
struct apply_context {
  infra::sql::session& db;  // inside the batch's transaction
  const relation_names& names;
  apply_mode mode;
  // True when every row of this generation was written through this writer (it opened the
  // generation empty), so a row missing from the writer's cache does not exist: no need to look.
  bool fresh = false;
};

class projection_writer {
 public:
  virtual ~projection_writer() = default;
  // Applies one event the projection handles, in global order. May read through ctx.db; should
  // buffer writes until flush. Throwing stops the projection at this event (nothing of the batch
  // commits) — never skip an event silently.
  virtual void apply(const infra::recorded_event& event, apply_context& ctx) = 0;
  // Writes what apply buffered, inside the batch's transaction.
  virtual void flush(apply_context& ctx) = 0;
  // The batch committed: publish what must only be seen after commit (room messages).
  virtual void committed() {}
  // The batch's transaction rolled back: forget everything apply/flush buffered or cached since
  // the last commit (the simplest correct answer: drop every cache).
  virtual void discard() noexcept = 0;
};

class projection {
 public:
  virtual ~projection() = default;
  // Stable and unique: the checkpoint's key, the metric label, `realmkit rebuild <name>`.
  // [a-z][a-z0-9_]*.
  virtual std::string_view name() const = 0;
  // Raised whenever the rows it writes change for the same events (a new column, a fixed rule):
  // a live generation written by another version is rebuilt beside it, then replaced.
  virtual int version() const = 0;
  // Its relations (unqualified, [a-z][a-z0-9_]*, unique across projections; "rm_" prefix for
  // read models, "fact_"/"an_" for analytics), the ones readers reach through stable views.
  virtual std::vector<std::string> relations() const = 0;
  // Of its relations, those the analysts' read-only role must never read (credentials): on
  // PostgreSQL the runtime revokes what default privileges grant on them, in the transaction that
  // creates them, so they are never readable by it.
  virtual std::vector<std::string> private_relations() const { return {}; }
  // Creates one generation's relations, indexes and anything else it needs (inside a transaction).
  virtual void create(infra::sql::session& db, const relation_names& names) const = 0;
  // Drops one generation's relations (a retired generation, inside a transaction).
  virtual void drop(infra::sql::session& db, const relation_names& names) const;
  // Whether apply wants this stored event type. The checkpoint passes every event either way.
  virtual bool handles(std::string_view event_type) const = 0;
  // A writer for one generation. Writers of different generations run at the same time.
  virtual std::unique_ptr<projection_writer> open(const relation_names& names) const = 0;
  // How a stable view is created for a relation; materialized views and virtual tables may need
  // more than SELECT * (the default).
  virtual std::string view_sql(infra::sql::dialect dialect, std::string_view relation,
                               const relation_names& names) const;
};

}  // namespace realmkit::projections

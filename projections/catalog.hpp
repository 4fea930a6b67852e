// The projector's catalog (migrations/*/000N_projections.sql): the generations of each
// projection's relations and their checkpoints, and the operations that move a generation through
// its life — created (building, or live for a projection's first generation), switched live in
// one transaction with the stable views, retired and dropped. Every function runs on the caller's
// session; those that change more than one row expect to run inside a transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infra/sql/sql_database.hpp"
#include "projections/projection.hpp"

namespace realmkit::projections {

enum class generation_state { building, live, retired };
std::string_view to_string(generation_state state);

struct generation_row {
  std::string projection;
  std::int64_t generation = 0;
  int version = 0;
  generation_state state = generation_state::building;
  std::int64_t position = 0;
  std::int64_t created_at_us = 0;
  std::int64_t updated_at_us = 0;
  std::optional<std::int64_t> switched_at_us;
};

std::int64_t now_us();

// Every generation of one projection, oldest first.
std::vector<generation_row> load_generations(infra::sql::session& db, std::string_view projection);
std::optional<generation_row> live_generation(infra::sql::session& db, std::string_view projection);
std::optional<generation_row> building_generation(infra::sql::session& db,
                                                  std::string_view projection);

// Creates the next generation (highest so far + 1) with its relations. A live one also gets the
// stable views; it must be the projection's first. Inside a transaction.
generation_row create_generation(infra::sql::session& db, const projection& p,
                                 generation_state state);

// Takes the row lock of a generation whose checkpoint is `position` (and whose state is
// `state`), so this writer alone applies the next batch. False when another writer moved the
// checkpoint or the generation changed state (it was switched or retired): the caller must
// reload. Inside the batch's transaction, before applying it.
bool claim_batch(infra::sql::session& db, std::string_view projection, std::int64_t generation,
                 generation_state state, std::int64_t position);
// Records the checkpoint after a batch (claimed first). Inside the batch's transaction.
void advance(infra::sql::session& db, std::string_view projection, std::int64_t generation,
             std::int64_t position);

// The live generation's row, locked against concurrent batches until the transaction ends.
std::optional<generation_row> lock_live(infra::sql::session& db, std::string_view projection);

// Makes `building` live and the live generation retired, and points the stable views at the
// new one. Inside the transaction that applied the building generation's last batch.
void switch_live(infra::sql::session& db, const projection& p, std::int64_t building);

// Drops the relations of retired generations whose relations still exist (each in the caller's
// transaction) and marks them dropped by deleting their rows. Returns how many were dropped.
int drop_retired(infra::sql::session& db, const projection& p);

// Points the stable views at a generation (drops and recreates them).
void create_views(infra::sql::session& db, const projection& p, const relation_names& names);
void drop_views(infra::sql::session& db, const projection& p);

}  // namespace realmkit::projections

#include "projections/catalog.hpp"

#include <chrono>
#include <stdexcept>

namespace realmkit::projections {

namespace sql = infra::sql;

std::string_view to_string(generation_state state) {
  switch (state) {
    case generation_state::building:
      return "building";
    case generation_state::live:
      return "live";
    case generation_state::retired:
      return "retired";
  }
  return {};
}

namespace {

generation_state parse_state(const std::string& text) {
  if (text == "building") return generation_state::building;
  if (text == "live") return generation_state::live;
  if (text == "retired") return generation_state::retired;
  throw sql::error("projection_generations: unknown state '" + text + "'", false);
}

constexpr std::string_view kColumns =
    "projection, generation, version, state, position, created_at, updated_at, switched_at";

generation_row to_generation(const sql::row& r) {
  generation_row g;
  g.projection = r.text(0);
  g.generation = r.integer(1);
  g.version = static_cast<int>(r.integer(2));
  g.state = parse_state(r.text(3));
  g.position = r.integer(4);
  g.created_at_us = r.integer(5);
  g.updated_at_us = r.integer(6);
  g.switched_at_us = r.optional_integer(7);
  return g;
}

std::optional<generation_row> one_in_state(sql::session& db, std::string_view projection,
                                           generation_state state, bool lock) {
  std::string query = "SELECT " + std::string(kColumns) +
                      " FROM projection_generations WHERE projection = $1 AND state = $2";
  if (lock && db.dialect() == sql::dialect::postgres) query += " FOR UPDATE";
  const sql::value params[] = {std::string(projection), std::string(to_string(state))};
  auto rows = db.query(query, params);
  if (rows.empty()) return std::nullopt;
  return to_generation(rows.front());
}

}  // namespace

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<generation_row> load_generations(sql::session& db, std::string_view projection) {
  const sql::value params[] = {std::string(projection)};
  std::vector<generation_row> out;
  for (const auto& r : db.query("SELECT " + std::string(kColumns) +
                                    " FROM projection_generations WHERE projection = $1"
                                    " ORDER BY generation",
                                params)) {
    out.push_back(to_generation(r));
  }
  return out;
}

std::optional<generation_row> live_generation(sql::session& db, std::string_view projection) {
  return one_in_state(db, projection, generation_state::live, false);
}

std::optional<generation_row> building_generation(sql::session& db, std::string_view projection) {
  return one_in_state(db, projection, generation_state::building, false);
}

std::optional<generation_row> lock_live(sql::session& db, std::string_view projection) {
  return one_in_state(db, projection, generation_state::live, true);
}

void drop_views(sql::session& db, const projection& p) {
  for (const auto& relation : p.relations()) {
    db.exec_script("DROP VIEW IF EXISTS " + sql::identifier(relation));
  }
}

namespace {

// The analysts' role (postgres migration 0006) is granted SELECT on every relation created in the
// schema; a projection's private relations take it back at once. Without the role (a database
// user that may not create roles) there is nothing to take back.
void revoke_private(sql::session& db, const projection& p, const relation_names* names) {
  if (db.dialect() != sql::dialect::postgres) return;
  const auto relations = p.private_relations();
  if (relations.empty()) return;
  if (db.query("SELECT 1 FROM pg_roles WHERE rolname = 'realmkit_analyst'").empty()) return;
  for (const auto& relation : relations) {
    const auto target = names ? (*names)(relation) : relation;
    db.exec_script("REVOKE ALL ON " + sql::identifier(target) + " FROM realmkit_analyst");
  }
}

}  // namespace

void create_views(sql::session& db, const projection& p, const relation_names& names) {
  for (const auto& relation : p.relations()) {
    const std::string select = p.view_sql(db.dialect(), relation, names);
    if (db.dialect() == sql::dialect::postgres) {
      // CREATE OR REPLACE keeps views that analysts built on this one; it refuses when the new
      // generation's columns differ, and only then is the view dropped and made anew.
      db.exec_script("SAVEPOINT realmkit_view");
      try {
        db.exec_script("CREATE OR REPLACE VIEW " + sql::identifier(relation) + " AS " + select);
        db.exec_script("RELEASE SAVEPOINT realmkit_view");
        continue;
      } catch (const sql::error&) {
        db.exec_script("ROLLBACK TO SAVEPOINT realmkit_view");
        db.exec_script("RELEASE SAVEPOINT realmkit_view");
      }
    }
    db.exec_script("DROP VIEW IF EXISTS " + sql::identifier(relation));
    db.exec_script("CREATE VIEW " + sql::identifier(relation) + " AS " + select);
  }
  revoke_private(db, p, nullptr);
}

generation_row create_generation(sql::session& db, const projection& p, generation_state state) {
  if (state == generation_state::retired) {
    throw std::invalid_argument("create_generation: a new generation is building or live");
  }
  const std::string name(p.name());
  const sql::value name_param[] = {name};
  const auto max_rows = db.query(
      "SELECT COALESCE(MAX(generation), 0) FROM projection_generations WHERE projection = $1",
      name_param);
  generation_row g;
  g.projection = name;
  g.generation = max_rows.front().integer(0) + 1;
  g.version = p.version();
  g.state = state;
  g.created_at_us = g.updated_at_us = now_us();
  if (state == generation_state::live) g.switched_at_us = g.created_at_us;
  const sql::value params[] = {name,
                               g.generation,
                               std::int64_t{g.version},
                               std::string(to_string(state)),
                               g.created_at_us,
                               g.switched_at_us ? sql::value(*g.switched_at_us) : sql::null()};
  db.execute(
      "INSERT INTO projection_generations (projection, generation, version, state, position, "
      "created_at, updated_at, switched_at) VALUES ($1, $2, $3, $4, 0, $5, $5, $6)",
      params);
  const relation_names names(g.generation);
  // A crashed rebuild may have left relations of this number behind without a catalog row.
  p.drop(db, names);
  p.create(db, names);
  revoke_private(db, p, &names);
  if (state == generation_state::live) create_views(db, p, names);
  return g;
}

bool claim_batch(sql::session& db, std::string_view projection, std::int64_t generation,
                 generation_state state, std::int64_t position) {
  const sql::value params[] = {std::string(projection), generation, std::string(to_string(state)),
                               position, now_us()};
  return db.execute(
             "UPDATE projection_generations SET updated_at = $5 WHERE projection = $1 AND "
             "generation = $2 AND state = $3 AND position = $4",
             params) == 1;
}

void advance(sql::session& db, std::string_view projection, std::int64_t generation,
             std::int64_t position) {
  const sql::value params[] = {std::string(projection), generation, position, now_us()};
  if (db.execute("UPDATE projection_generations SET position = $3, updated_at = $4 WHERE "
                 "projection = $1 AND generation = $2",
                 params) != 1) {
    throw sql::error("projection " + std::string(projection) + ": generation " +
                         std::to_string(generation) + " vanished from the catalog",
                     false);
  }
}

void switch_live(sql::session& db, const projection& p, std::int64_t building) {
  const std::string name(p.name());
  const auto now = now_us();
  const sql::value retire[] = {name, now};
  db.execute(
      "UPDATE projection_generations SET state = 'retired', updated_at = $2 WHERE projection = $1 "
      "AND state = 'live'",
      retire);
  const sql::value promote[] = {name, building, now};
  if (db.execute("UPDATE projection_generations SET state = 'live', updated_at = $3, switched_at "
                 "= $3 WHERE projection = $1 AND generation = $2 AND state = 'building'",
                 promote) != 1) {
    throw sql::error("projection " + name + ": generation " + std::to_string(building) +
                         " is no longer building",
                     false);
  }
  create_views(db, p, relation_names(building));
}

int drop_retired(sql::session& db, const projection& p) {
  int dropped = 0;
  for (const auto& g : load_generations(db, p.name())) {
    if (g.state != generation_state::retired) continue;
    p.drop(db, relation_names(g.generation));
    const sql::value params[] = {g.projection, g.generation};
    db.execute("DELETE FROM projection_generations WHERE projection = $1 AND generation = $2",
               params);
    ++dropped;
  }
  return dropped;
}

}  // namespace realmkit::projections

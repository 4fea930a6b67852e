#include "infra/sqlite/sqlite_migrations.hpp"

#include <chrono>
#include <string>

#include "infra/event_store.hpp"

namespace realmkit::infra::sqlite {
namespace {

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";  // microseconds since the Unix epoch
constexpr std::string_view kHasMigrationsTable =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr std::string_view kSelectApplied =
    "SELECT version, name FROM schema_migrations ORDER BY version";
constexpr std::string_view kInsertApplied =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";

struct applied_migration {
  std::int64_t version;
  std::string name;
};

std::vector<applied_migration> applied(connection& db) {
  if (db.pragma_text(kHasMigrationsTable) == "0") return {};
  std::vector<applied_migration> rows;
  auto q = db.prepare(kSelectApplied);
  while (q.step()) rows.push_back({q.integer(0), std::string(q.text(1))});
  return rows;
}

void check(const std::vector<applied_migration>& rows, std::span<const migration> known,
           const std::filesystem::path& path) {
  const int newest_known = known.empty() ? 0 : known.back().version;
  for (const auto& row : rows) {
    if (row.version > newest_known) {
      throw store_error("database " + path.string() + " has schema version " +
                        std::to_string(row.version) + " (" + row.name +
                        "), newer than this binary knows (" + std::to_string(newest_known) +
                        "): upgrade realmkit before opening it");
    }
    bool found = false;
    for (const auto& m : known) {
      if (m.version != row.version) continue;
      found = true;
      if (m.name != row.name) {
        throw store_error("database " + path.string() + " applied migration " + row.name +
                          " where this binary has " + std::string(m.name) +
                          ": it was not created by this application");
      }
    }
    if (!found) {
      throw store_error("database " + path.string() + " applied migration " + row.name +
                        " that this binary does not know");
    }
  }
}

}  // namespace

int applied_schema_version(connection& db) {
  auto rows = applied(db);
  return rows.empty() ? 0 : static_cast<int>(rows.back().version);
}

void check_schema_known(connection& db, std::span<const migration> known) {
  check(applied(db), known, db.path());
}

int apply_migrations(connection& db, std::span<const migration> known) {
  transaction tx(db, "BEGIN IMMEDIATE");
  db.exec(kCreateMigrationsTable);
  auto rows = applied(db);
  check(rows, known, db.path());
  int count = 0;
  for (const auto& m : known) {
    bool done = false;
    for (const auto& row : rows) done = done || row.version == m.version;
    if (done) continue;
    try {
      db.exec(m.sql);
    } catch (const error& e) {
      throw error(e.code(), e.extended_code(),
                  "migration " + std::string(m.name) + " failed: " + e.what());
    }
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    db.prepare(kInsertApplied).bind(1, std::int64_t{m.version}).bind(2, m.name).bind(3, now).run();
    ++count;
  }
  tx.commit();
  return count;
}

}  // namespace realmkit::infra::sqlite

#include "infra/postgres/postgres_migrations.hpp"

#include <string>

#include "infra/event_store.hpp"
#include "infra/migrations.hpp"
#include "infra/postgres/postgres_connection.hpp"

namespace realmkit::infra::postgres_detail {
namespace {

// The first key of the two-part advisory lock, so RealmKit's migration lock cannot collide with
// another application's advisory locks on the same database ("RKMG").
constexpr int kMigrationLockClass = 0x524B4D47;

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version    integer     PRIMARY KEY,"
    "  name       text        NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now())";

}  // namespace

int apply_migrations(pqxx::connection& connection, std::string_view schema) {
  const auto migrations = migrations_for(backend::postgres);
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  const std::string quoted = quoted_identifier(schema);

  pqxx::work tx(connection, "migrate");
  tx.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", kMigrationLockClass,
                 std::string(schema));
  // Checked first because CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
  // schema exists, and a locked-down role may only own its schema.
  if (tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", std::string(schema))
          .empty()) {
    tx.exec("CREATE SCHEMA " + quoted);
  }
  tx.exec("SET LOCAL search_path TO " + quoted);
  tx.exec(kCreateMigrationsTable);
  const int current =
      tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
  if (current > newest) {
    throw store_error("the PostgreSQL schema " + std::string(schema) + " is at migration " +
                      std::to_string(current) + ", newer than the newest this RealmKit knows (" +
                      std::to_string(newest) +
                      "): upgrade RealmKit, or point it at another schema");
  }
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    tx.exec(std::string(m.sql), "migration " + std::string(m.name));
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                   std::string(m.name));
  }
  tx.commit();
  return current > newest ? current : newest;
}

}  // namespace realmkit::infra::postgres_detail

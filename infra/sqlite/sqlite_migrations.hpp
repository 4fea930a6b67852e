// Applies the embedded migrations/sqlite/*.sql files to a database, recording each in
// schema_migrations, and refuses a database written by a newer binary.
#pragma once

#include <span>

#include "infra/migrations.hpp"
#include "infra/sqlite/sqlite_connection.hpp"

namespace realmkit::infra::sqlite {

// The highest applied migration version (0 for a database never migrated).
int applied_schema_version(connection& db);

// Throws store_error when the database holds a migration this binary does not know (it was
// written by a newer binary) or one whose name differs from ours (it is not our database).
void check_schema_known(connection& db, std::span<const migration> known);

// Applies every pending migration in one write transaction, so concurrent migrators (the CLI and
// the server) serialize and a failed migration leaves the schema as it was. Returns how many were
// applied (0 when up to date).
int apply_migrations(connection& db, std::span<const migration> known);

}  // namespace realmkit::infra::sqlite

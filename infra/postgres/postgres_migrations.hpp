// Applies migrations/postgres to one schema, safely when several processes start at once.
#pragma once

#include <pqxx/pqxx>
#include <string_view>

namespace realmkit::infra::postgres_detail {

// Creates the schema when missing and applies the embedded migrations it lacks, all in one
// transaction holding an advisory lock keyed on the schema: a second process waits, then finds
// nothing left to do. Returns the schema version. Throws store_error when the database records a
// migration newer than the newest this binary embeds.
int apply_migrations(pqxx::connection& connection, std::string_view schema);

}  // namespace realmkit::infra::postgres_detail

// Start-up checks of the services a process depends on, so a misconfigured or unreachable one
// stops it with a clear message instead of failing requests later.
#pragma once

#include "infra/sql/sql_database.hpp"

namespace realmkit::app {

// Refuses (throws std::runtime_error) a PostgreSQL that may lose acknowledged commits: fsync or
// synchronous_commit off breaks "acknowledged means durable" (ARCHITECTURE §3 invariant 1).
// With `unsafe_allowed` it only warns: throw-away test servers run that way for speed.
void check_durability(infra::sql::database& db, bool unsafe_allowed);

}  // namespace realmkit::app

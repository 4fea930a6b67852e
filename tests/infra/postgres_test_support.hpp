// What the PostgreSQL tests share: the server from REALMKIT_TEST_POSTGRES_URL (a test fails,
// never passes silently, when it is not set), throw-away schemas, and the writer tool's path.
#pragma once

#include <memory>
#include <string>

#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::testing {

// The server URL; FAILs the running test when REALMKIT_TEST_POSTGRES_URL is not set.
std::string postgres_test_url();
// A schema name no other store uses (random, so leftovers of a crashed run never collide).
std::string unique_postgres_schema();
// Options for a store in a new schema that is dropped when the store is destroyed.
infra::postgres_store_options fresh_postgres_options();
// A raw SQL statement (or several) run in the schema, for tests that corrupt or inspect tables.
void postgres_exec(const std::string& schema, const std::string& sql);
// The first column of the first row of a query run in the schema, as text ("" for no row).
std::string postgres_query_value(const std::string& schema, const std::string& sql);

}  // namespace realmkit::testing

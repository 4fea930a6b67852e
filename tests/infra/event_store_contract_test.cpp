// Runs the event store contract against every backend.
#include "tests/infra/event_store_contract.hpp"

#include "tests/infra/store_backends.hpp"

using realmkit::testing::postgres_backend;
using realmkit::testing::sqlite_backend;

TEST_CASE_TEMPLATE_INVOKE(contract, sqlite_backend, postgres_backend);

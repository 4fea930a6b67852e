// The PostgreSQL backend of the event store contract suite.
#include "infra/postgres/postgres_event_store.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::testing {

std::unique_ptr<infra::event_store> postgres_backend::make_store() {
  return std::make_unique<infra::postgres_event_store>(fresh_postgres_options());
}

}  // namespace realmkit::testing

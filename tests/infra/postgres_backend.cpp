// The PostgreSQL backend of the event store contract suite.
#include "infra/postgres/postgres_event_store.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::testing {

std::unique_ptr<infra::event_store> postgres_backend::make_store() {
  return std::make_unique<infra::postgres_event_store>(fresh_postgres_options());
}

store_and_database postgres_backend::make_store_and_database() {
  auto options = fresh_postgres_options();
  store_and_database out;
  out.store = std::make_unique<infra::postgres_event_store>(options);
  out.db = infra::sql::open_postgres_database({.url = options.url, .schema = options.schema});
  return out;
}

}  // namespace realmkit::testing

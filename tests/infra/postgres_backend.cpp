#include <doctest/doctest.h>

#include <cstdlib>
#include <pqxx/pqxx>
#include <random>
#include <sstream>

#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::testing {
namespace {

std::unique_ptr<pqxx::connection> connect_to(const std::string& schema) {
  auto connection = std::make_unique<pqxx::connection>(postgres_test_url());
  connection->set_variable("search_path", "\"" + schema + "\"");
  return connection;
}

}  // namespace

std::string postgres_test_url() {
  const char* url = std::getenv("REALMKIT_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    FAIL(
        "REALMKIT_TEST_POSTGRES_URL is not set: the PostgreSQL tests need a server, e.g. "
        "postgresql://postgres@127.0.0.1:5432/postgres (scripts/test starts one and sets it)");
  }
  return url;
}

std::string unique_postgres_schema() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::ostringstream name;
  name << "rk_test_" << std::hex << random();
  return name.str();
}

infra::postgres_store_options fresh_postgres_options() {
  infra::postgres_store_options options;
  options.url = postgres_test_url();
  options.schema = unique_postgres_schema();
  options.drop_schema_on_close = true;
  return options;
}

void postgres_exec(const std::string& schema, const std::string& sql) {
  auto connection = connect_to(schema);
  pqxx::nontransaction tx(*connection);
  tx.exec(sql);
}

std::string postgres_query_value(const std::string& schema, const std::string& sql) {
  auto connection = connect_to(schema);
  pqxx::nontransaction tx(*connection);
  const auto rows = tx.exec(sql);
  if (rows.empty() || rows[0][0].is_null()) return "";
  return rows[0][0].as<std::string>();
}

std::unique_ptr<infra::event_store> postgres_backend::make_store() {
  return std::make_unique<infra::postgres_event_store>(fresh_postgres_options());
}

}  // namespace realmkit::testing

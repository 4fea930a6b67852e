// The event store backends the contract suite runs against. Each make_store() returns a fresh,
// empty store that needs no cleanup from the test; make_store_and_database() adds the read-model
// database in the same place.
#pragma once

#include <filesystem>
#include <memory>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::testing {

// A new directory under the system temp directory, removed with its contents when destroyed.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A fresh store and the read-model database beside it, as the app wires them: the same SQLite file,
// or the same PostgreSQL schema.
struct store_and_database {
  std::unique_ptr<infra::event_store> store;
  std::unique_ptr<infra::sql::database> db;  // declared after the store: destroyed first
};

struct sqlite_backend {
  static constexpr const char* kName = "sqlite";
  // A store on a new file in a directory removed when the test process exits.
  static std::unique_ptr<infra::event_store> make_store();
  // A store as above and a database on its file.
  static store_and_database make_store_and_database();
};

struct postgres_backend {
  static constexpr const char* kName = "postgres";
  // A store in a new schema of the server in REALMKIT_TEST_POSTGRES_URL, dropped with the store;
  // fails the test when that variable is not set.
  static std::unique_ptr<infra::event_store> make_store();
  // A store as above and a database on its schema (dropped with the store, after the database).
  static store_and_database make_store_and_database();
};

}  // namespace realmkit::testing

// The event store backends the contract suite runs against. Each make_store() returns a fresh,
// empty store that needs no cleanup from the test.
#pragma once

#include <filesystem>
#include <memory>

#include "infra/event_store.hpp"

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

struct sqlite_backend {
  static constexpr const char* kName = "sqlite";
  // A store on a new file in a directory removed when the test process exits.
  static std::unique_ptr<infra::event_store> make_store();
};

struct postgres_backend {
  static constexpr const char* kName = "postgres";
  // A store in a new schema of the server in REALMKIT_TEST_POSTGRES_URL, dropped with the store;
  // fails the test when that variable is not set.
  static std::unique_ptr<infra::event_store> make_store();
};

}  // namespace realmkit::testing

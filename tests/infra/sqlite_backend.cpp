#include <stdlib.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <system_error>

#include "infra/sqlite/sqlite_event_store.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::testing {

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "realmkit-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;  // a leftover temp directory is not worth failing a test for
  std::filesystem::remove_all(path_, ignored);
}

namespace {

// A path for a new store's file.
std::filesystem::path next_store_path() {
  static temp_dir root;  // removed at exit, after every test's store is gone
  static std::atomic<int> count{0};
  return root.path() / ("store-" + std::to_string(++count)) / "events.db";
}

}  // namespace

std::unique_ptr<infra::event_store> sqlite_backend::make_store() {
  infra::sqlite_store_options options;
  options.path = next_store_path();
  return std::make_unique<infra::sqlite_event_store>(std::move(options));
}

store_and_database sqlite_backend::make_store_and_database() {
  infra::sqlite_store_options options;
  options.path = next_store_path();
  store_and_database out;
  out.store = std::make_unique<infra::sqlite_event_store>(options);
  out.db = infra::sql::open_sqlite_database({.path = options.path});
  return out;
}

}  // namespace realmkit::testing

// A projector process for the crash tests (tests/projections/projector_crash_test.cpp): the
// tests kill it with SIGKILL at random moments and check that what it committed is exactly what
// a from-scratch rebuild produces.
//
//   realmkit_projector_tool follow   STORE SET   runs the projections until killed
//   realmkit_projector_tool catch-up STORE SET   runs them until they have applied the head, exits
//   0
//
// STORE is "sqlite:PATH" or "postgres:URL|SCHEMA"; SET is "counting" (the runtime tests'
// projection) or "all" (every read model the server runs).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "projections/projector.hpp"
#include "projections/registry.hpp"
#include "tests/projections/counting_projection.hpp"

namespace {

using namespace realmkit;
using namespace std::chrono_literals;

struct opened {
  std::unique_ptr<infra::event_store> store;
  std::unique_ptr<infra::sql::database> db;
};

opened open(const std::string& spec) {
  opened out;
  if (spec.rfind("sqlite:", 0) == 0) {
    infra::sqlite_store_options options;
    options.path = spec.substr(7);
    out.store = std::make_unique<infra::sqlite_event_store>(options);
    infra::sql::sqlite_options db;
    db.path = options.path;
    out.db = infra::sql::open_sqlite_database(db);
  } else if (spec.rfind("postgres:", 0) == 0) {
    const auto rest = spec.substr(9);
    const auto bar = rest.find('|');
    infra::postgres_store_options options;
    options.url = rest.substr(0, bar);
    options.schema = rest.substr(bar + 1);
    out.store = std::make_unique<infra::postgres_event_store>(options);
    infra::sql::postgres_options db;
    db.url = options.url;
    db.schema = options.schema;
    out.db = infra::sql::open_postgres_database(db);
  } else {
    throw std::invalid_argument("STORE must be sqlite:PATH or postgres:URL|SCHEMA");
  }
  return out;
}

std::vector<std::shared_ptr<const projections::projection>> projection_set(const std::string& set) {
  if (set == "counting") return {std::make_shared<testing::counting_projection>()};
  if (set == "all") return projections::all_projections();
  throw std::invalid_argument("SET must be counting or all");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: realmkit_projector_tool follow|catch-up STORE SET\n";
    return 2;
  }
  try {
    const std::string mode = argv[1];
    auto env = open(argv[2]);
    projections::projector_options options;
    options.live_batch_events = 200;
    options.idle_wait = 20ms;
    projections::projector p(*env.store, *env.db, projection_set(argv[3]), options);
    p.start();
    std::cout << "started" << std::endl;
    if (mode == "catch-up") {
      const auto head = env.store->head_position();
      if (!p.wait_for(head, 400s)) {
        for (const auto& s : p.status()) {
          std::cerr << s.name << ": " << to_string(s.state) << " at " << s.checkpoint
                    << (s.error ? " — " + *s.error : std::string()) << "\n";
        }
        return 1;
      }
      std::cout << "caught up " << head << std::endl;
      return 0;
    }
    for (;;) {
      std::this_thread::sleep_for(1s);
      if (!p.healthy()) {
        std::cerr << "a projection failed\n";
        return 1;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "realmkit_projector_tool: " << e.what() << "\n";
    return 1;
  }
}

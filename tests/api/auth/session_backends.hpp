// The stores a session needs, on each backend: an event store (the users live in their streams)
// and the refresh token store beside it, on the same SQLite file or PostgreSQL schema.
#pragma once

#include <memory>

#include "api/auth/postgres_refresh_token_store.hpp"
#include "api/auth/sqlite_refresh_token_store.hpp"
#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::testing {

struct sqlite_session_backend {
  static constexpr const char* kName = "sqlite";
  temp_dir dir;
  std::unique_ptr<infra::event_store> store = [this] {
    infra::sqlite_store_options o;
    o.path = dir.path() / "data" / "realmkit.db";
    o.durability = infra::sqlite_durability::relaxed;
    return std::make_unique<infra::sqlite_event_store>(std::move(o));
  }();
  api::auth::sqlite_refresh_token_store refresh{{dir.path() / "data" / "realmkit.db"}};
};

struct postgres_session_backend {
  static constexpr const char* kName = "postgres";
  infra::postgres_store_options options = fresh_postgres_options();
  // Destroyed last: it drops the schema.
  std::unique_ptr<infra::event_store> store =
      std::make_unique<infra::postgres_event_store>(options);
  api::auth::postgres_refresh_token_store refresh{[this] {
    auto o = options;
    o.drop_schema_on_close = false;
    return o;
  }()};
};

}  // namespace realmkit::testing

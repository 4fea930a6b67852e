// Opens the configured event store: SQLite under the data folder by default, PostgreSQL when a
// postgresql:// URL is given. Migrations are applied on open.
#pragma once

#include <memory>
#include <string>

#include "infra/event_store.hpp"

namespace realmkit::infra {

struct store_config {
  std::string database_url;         // empty: SQLite at <data_dir>/realmkit.db
  std::string data_dir = "data";
  bool sqlite_relaxed_sync = false;  // synchronous=NORMAL: faster, may lose the last commits on power loss
  bool apply_migrations = true;
};

// A URL with its password masked, for logs and `realmkit config`.
std::string masked_url(const std::string& url);

std::unique_ptr<event_store> open_event_store(const store_config& config);

}  // namespace realmkit::infra

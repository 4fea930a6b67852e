#include "infra/store_factory.hpp"

#include "infra/postgres/postgres_event_store.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"

namespace realmkit::infra {

std::string masked_url(const std::string& url) {
  // scheme://user:password@host → scheme://user:***@host
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::unique_ptr<event_store> open_event_store(const store_config& config) {
  if (config.database_url.empty()) {
    sqlite_store_options options;
    options.path = std::filesystem::path(config.data_dir) / "realmkit.db";
    options.durability =
        config.sqlite_relaxed_sync ? sqlite_durability::relaxed : sqlite_durability::full;
    options.migrate_on_open = config.apply_migrations;
    return std::make_unique<sqlite_event_store>(std::move(options));
  }
  if (config.database_url.starts_with("postgresql://") ||
      config.database_url.starts_with("postgres://")) {
    postgres_store_options options;
    options.url = config.database_url;
    return std::make_unique<postgres_event_store>(std::move(options));
  }
  throw std::invalid_argument(
      "unsupported database URL " + masked_url(config.database_url) +
      ": use postgresql://… or leave it empty for the embedded SQLite store");
}

}  // namespace realmkit::infra

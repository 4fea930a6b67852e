#include "app/session_stores.hpp"

#include <filesystem>

#include "api/auth/postgres_refresh_token_store.hpp"
#include "api/auth/sqlite_refresh_token_store.hpp"

namespace realmkit::app {
namespace {

infra::postgres_store_options postgres_options(const infra::store_config& config) {
  infra::postgres_store_options options;
  options.url = config.database_url;
  return options;
}

}  // namespace

std::unique_ptr<api::auth::refresh_token_store> open_refresh_token_store(
    const infra::store_config& config) {
  if (config.database_url.empty()) {
    api::auth::sqlite_refresh_token_store_options options;
    options.path = std::filesystem::path(config.data_dir) / "realmkit.db";
    options.migrate_on_open = config.apply_migrations;
    return std::make_unique<api::auth::sqlite_refresh_token_store>(std::move(options));
  }
  return std::make_unique<api::auth::postgres_refresh_token_store>(postgres_options(config));
}

api::auth::loaded_keys resolve_jwt_keys(const infra::store_config& config,
                                        const std::string& configured) {
  if (!configured.empty()) {
    return {api::auth::parse_jwt_keyset(configured), api::auth::key_source::configured};
  }
  if (config.database_url.empty()) {
    return api::auth::load_or_create_key_file(std::filesystem::path(config.data_dir) / "jwt-keys");
  }
  return api::auth::load_or_create_postgres_keys(postgres_options(config));
}

}  // namespace realmkit::app

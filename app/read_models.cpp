#include "app/read_models.hpp"

namespace realmkit::app {

std::unique_ptr<infra::sql::database> open_read_database(const infra::store_config& config) {
  if (config.database_url.empty()) {
    infra::sql::sqlite_options options;
    options.path = std::filesystem::path(config.data_dir) / "realmkit.db";
    return infra::sql::open_sqlite_database(std::move(options));
  }
  // The event store's schema: open_event_store keeps its tables in the default one.
  infra::sql::postgres_options options;
  options.url = config.database_url;
  return infra::sql::open_postgres_database(std::move(options));
}

read_models::read_models(infra::event_store& store, std::unique_ptr<infra::sql::database> db,
                         projections::projector_options options,
                         const projections::projection_services& services)
    : db_(std::move(db)),
      projector_(std::make_unique<projections::projector>(
          store, *db_, projections::all_projections(services), std::move(options))) {}

read_models::~read_models() {
  projector_->stop();
}

}  // namespace realmkit::app

// The read side as the server runs it: the read-model database beside the event store (the same
// SQLite file, or the same PostgreSQL database and schema) and the projector that keeps every
// projection of projections/registry.cpp up to date in it.
#pragma once

#include <memory>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "infra/store_factory.hpp"
#include "projections/projector.hpp"
#include "projections/registry.hpp"

namespace realmkit::app {

// Opens the read-model database where the configured event store keeps its events.
std::unique_ptr<infra::sql::database> open_read_database(const infra::store_config& config);

// Owns the database and the projector; the store must outlive it. Destroying it stops the
// projector before the database closes.
class read_models final {
 public:
  read_models(infra::event_store& store, std::unique_ptr<infra::sql::database> db,
              projections::projector_options options = {},
              const projections::projection_services& services = {});
  ~read_models();
  read_models(const read_models&) = delete;
  read_models& operator=(const read_models&) = delete;

  infra::sql::database& database() { return *db_; }
  projections::projector& projector() { return *projector_; }

  // Starts projecting (catching up in the background). Idempotent.
  void start() { projector_->start(); }
  // Stops after the current batches: before the store closes. Idempotent.
  void stop() { projector_->stop(); }

 private:
  std::unique_ptr<infra::sql::database> db_;
  std::unique_ptr<projections::projector> projector_;
};

}  // namespace realmkit::app

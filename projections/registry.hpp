// Every projection the server runs, in the order their runners start.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "infra/room_bus.hpp"
#include "projections/projection.hpp"

namespace realmkit::projections {

// What some projections need from the process that runs them.
struct projection_services {
  // Where committed room updates go (the real-time hub listens); null: the log only.
  std::shared_ptr<infra::room_bus> rooms;
  // How long the room-update log keeps messages for clients that resume.
  std::chrono::seconds room_retention = std::chrono::hours{24 * 7};
};

std::vector<std::shared_ptr<const projection>> all_projections(
    const projection_services& services = {});

}  // namespace realmkit::projections

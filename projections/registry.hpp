// Every projection the server runs, in the order their runners start.
#pragma once

#include <memory>
#include <vector>

#include "projections/projection.hpp"

namespace realmkit::projections {

std::vector<std::shared_ptr<const projection>> all_projections();

}  // namespace realmkit::projections

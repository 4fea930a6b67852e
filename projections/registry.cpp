#include "projections/registry.hpp"

namespace realmkit::projections {

std::vector<std::shared_ptr<const projection>> all_projections() {
  std::vector<std::shared_ptr<const projection>> out;
  // One line per read model; each lives in its own folder under projections/.
  return out;
}

}  // namespace realmkit::projections

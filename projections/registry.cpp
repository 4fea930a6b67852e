#include "projections/registry.hpp"

#include "projections/records/records_projection.hpp"

namespace realmkit::projections {

std::vector<std::shared_ptr<const projection>> all_projections() {
  std::vector<std::shared_ptr<const projection>> out;
  // One line per read model; each lives in its own folder under projections/.
  out.push_back(std::make_shared<records::records_projection>());
  return out;
}

}  // namespace realmkit::projections

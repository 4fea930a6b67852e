// `realmkit rebuild <projection>`: builds a new generation of a read model from the first event,
// beside the live one, and switches to it once caught up — while a running server keeps serving
// the live generation (its projector adopts the new one at its next batch).
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "infra/store_factory.hpp"

namespace realmkit::app {

struct rebuild_options {
  std::string projection;  // a name from `realmkit rebuild --list`, or "all"
  std::chrono::seconds progress_every{5};
};

// Prints progress and the outcome on `out`. Throws cli_error for an unknown projection; returns
// 0 once every requested projection switched, 1 when a rebuild stopped at an event.
int rebuild_projections(const infra::store_config& store, const rebuild_options& options,
                        std::ostream& out);

// The names `realmkit rebuild` accepts, one per line.
void list_projections(std::ostream& out);

}  // namespace realmkit::app

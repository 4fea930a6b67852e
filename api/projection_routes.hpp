// The projector's state over HTTP: GET /api/projections (every read model's checkpoint, lag and
// state, for operators and for analysts who want to know how fresh a number is), GET
// /api/projections/{name}, and POST /api/projections/{name}/rebuild (admin: build a new
// generation beside the live one and switch to it when caught up).
#pragma once

#include "api/router.hpp"

namespace realmkit::projections {
class projector;
}

namespace realmkit::api {

// The projector must outlive the router.
void add_projection_routes(router& routes, projections::projector& projector);

}  // namespace realmkit::api

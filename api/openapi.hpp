// The OpenAPI 3.1 document of the HTTP API, generated from the router's table so that it cannot
// drift from what the server serves: one operation per route (operationId = the route's name),
// its path parameters, security and permission, body schemas where the route gives them, and
// problem+json for errors.
#pragma once

#include <string>

#include "api/router.hpp"

namespace realmkit::api {

struct openapi_info {
  std::string title = "RealmKit API";
  std::string version = "0.1.0";
  std::string description =
      "Event-sourced CRM. Commands answer {stream_id, version, position}; queries accept "
      "min_position to read their own writes; every error is application/problem+json (RFC 9457).";
};

// The document as JSON text. Throws std::invalid_argument naming the route when a route's
// request_schema or response_schema is not a JSON object.
std::string openapi_document(const router& routes, const openapi_info& info = {});

// Adds GET /api/openapi.json (anonymous). The document is generated at the first request, when
// the table is complete, and kept. The router must outlive its routes' use.
void add_openapi_route(router& routes, openapi_info info = {});

}  // namespace realmkit::api

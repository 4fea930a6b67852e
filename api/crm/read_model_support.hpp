// What the routes over the board, search, timeline and inbox read models share: a GET route that
// waits for min_position on the projections it reads, then runs on a pooled read-model session,
// and a reader of query parameters that refuses anything it does not know. Internal to api/crm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/crm/route_support.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::api::crm {

using read_handler = std::function<http_response(request_scope&, infra::sql::session&)>;

// Adds GET `pattern`: the permission is checked (403); min_position, when sent, is waited for on
// every one of `projections` (503 with Retry-After after services.max_wait); then `handle` runs
// on a pooled session of services.read_db, on the worker pool. A process without read models
// (read_db null) and a read-model database that cannot be reached answer 503.
void add_read_route(router& routes, crm_services& services, std::string pattern, std::string name,
                    auth::permission permission, std::string summary, std::string response_schema,
                    std::vector<std::string> projections, read_handler handle);

// Waits for the request's min_position, when it has one, on every one of `projections` (503
// after services.max_wait): for a route that is not a read route yet reads read models.
void await_read_models(const request_scope& scope, const std::vector<std::string>& projections);

// The query parameters of one request. Every parameter must be one of `known` or min_position,
// and appear once: anything else is refused (422 naming it), as the lists do.
class query_reader {
 public:
  query_reader(const http_request& request, std::initializer_list<std::string_view> known);

  std::optional<std::string> text(std::string_view name) const;
  // A record id (422 when it cannot be one).
  std::optional<std::string> id(std::string_view name) const;
  // An RFC 3339 date-time (422 otherwise).
  std::optional<domain::timestamp> time(std::string_view name) const;
  // `limit`: 1..max, `fallback` when absent (422 otherwise).
  std::size_t limit(std::size_t fallback, std::size_t max) const;

 private:
  const http_request& request_;
};

// The JSON Schema of a page of items: {items, next_cursor, position} plus `extra` properties
// (JSON members text, without braces; may be empty).
std::string page_schema(std::string_view item_properties, std::string_view extra = {});

// The pipeline board of the board read model in `db`, as GET /api/pipelines/{id}/board answers
// it: its parameters (owner, team, stage, cursor, limit) from `q`, days in stage counted at
// `now`. The audit's board as of a past time answers the same from a past read model.
http_response answer_board(request_scope& scope, infra::sql::session& db, const query_reader& q,
                           domain::timestamp now);
// The JSON Schema of that answer.
std::string_view board_schema();

}  // namespace realmkit::api::crm

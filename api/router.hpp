// Method + path-pattern routing ("/api/deals/{id}/stage") over plain request types. The table is
// enumerable: the OpenAPI document and the authorization matrix are generated from routes().
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"

namespace realmkit::api {

using handler = std::function<http_response(const http_request&)>;

struct route {
  std::string method;   // "GET", "POST", "PUT", "PATCH", "DELETE", ...
  std::string pattern;  // "/api/deals/{id}/stage": literal segments and whole-segment {params}
  std::string name;     // stable and unique, e.g. "deals.move_stage": metrics, logs, OpenAPI
  handler handle;
  // True for handlers that block (database calls): they run on the worker pool, never on an I/O
  // thread. False only for handlers that finish in microseconds without I/O.
  bool blocking = true;
  // For a blocking route whose requests mostly do not block (reads from memory that wait only
  // when asked to): when set and true for a request, that request runs on the I/O thread,
  // saving two thread hand-offs. It must decide from the request alone, in microseconds.
  std::function<bool(const http_request&)> runs_inline;
  bool anonymous = false;  // true: served without authentication (login, health, metrics)
  std::string permission;  // the permission the route requires ("deal:edit"); empty: none
  std::string summary;     // one line for the OpenAPI document
  // For the OpenAPI document (api/openapi.hpp): JSON Schema (2020-12) texts of the request body
  // and of the success response body, empty when not described; the status of a success.
  std::string request_schema;
  std::string response_schema;
  int success_status = 200;
};

// The outcome of matching a method and path.
struct route_match {
  enum class kind {
    found,               // `route` is set (a HEAD request may be served by a GET route)
    options,             // OPTIONS on a known path with no OPTIONS route: answer with `allow`
    not_found,           // no pattern matches the path
    method_not_allowed,  // a pattern matches, not with this method: answer 405 with `allow`
    bad_path,            // the path has a malformed percent-escape
  };
  kind result = kind::not_found;
  const route* matched = nullptr;
  std::map<std::string, std::string, std::less<>> params;  // decoded {param} values
  std::string allow;  // "GET, HEAD, OPTIONS, POST": the methods of the path, sorted
};

class router final {
 public:
  router();
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;
  // Moving keeps every route at its address (a deque moves its blocks).
  router(router&&) noexcept;
  router& operator=(router&&) noexcept;

  // Adds a route. Throws std::invalid_argument for a malformed pattern or name, a duplicate name,
  // the same method on the same pattern twice, or a parameter whose name differs from another
  // pattern's parameter at the same place. Not thread-safe: build the table before serving.
  const route& add(route r);

  // Matches a percent-encoded path. Literal segments win over parameters; each segment is decoded
  // after splitting, so "%2F" inside a parameter stays inside it.
  route_match match(std::string_view method, std::string_view path) const;

  // Every route in the order added. References stay valid for the router's lifetime.
  const std::deque<route>& routes() const { return routes_; }

  // Matches and runs the handler inline, filling path_params and route_name; 404/405/OPTIONS
  // answered without a handler. For unit tests of route logic: the server adds request ids,
  // guards, CORS, headers and the worker pool around this.
  http_response dispatch(http_request request) const;

 private:
  struct node;
  std::deque<route> routes_;
  std::unique_ptr<node> root_;
};

}  // namespace realmkit::api

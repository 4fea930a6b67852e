// The one table from failures (business rejections, store errors, bad input, overload) to
// problem+json: status, type and title are decided here and nowhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "api/problem.hpp"
#include "domain/common/types.hpp"

namespace realmkit::infra {
class store_error;
}

namespace realmkit::api {

enum class problem_kind {
  // input
  validation,              // 422 a field breaks a rule (domain::rejection_code::invalid)
  malformed_json,          // 400 not JSON, invalid UTF-8, nested too deep
  malformed_request,       // 400 HTTP the server cannot parse, a bad target or escape
  unsupported_media_type,  // 415 a body that is not application/json
  payload_too_large,       // 413 body over the limit
  headers_too_large,       // 431 request line and headers over the limit
  // resources
  not_found,               // 404 the resource does not exist (or is hidden from the caller)
  route_not_found,         // 404 no route has this path
  method_not_allowed,      // 405 the path exists, the method does not
  already_exists,          // 409
  invalid_state,           // 409 the resource's state forbids the command
  version_conflict,        // 409 stale expected version; carries current_version
  idempotency_key_reused,  // 422 the key was used for a different request
  invalid_append,          // 422 the store refused the write as malformed
  // access
  unauthorized,        // 401
  forbidden,           // 403
  origin_not_allowed,  // 403 a CORS preflight from an origin not on the allow-list
  too_many_requests,   // 429
  // server
  overloaded,     // 503 the worker pool's queue is full
  shutting_down,  // 503 the server is draining
  unavailable,    // 503 the store is unreachable
  internal,       // 500
};

struct problem_type_info {
  problem_kind kind;
  int status;
  std::string_view type;  // "urn:realmkit:problem:<slug>"
  std::string_view title;
};

// The table, for documentation and tests.
std::span<const problem_type_info> problem_types();
const problem_type_info& info(problem_kind kind);

// A problem of this kind; `field` (domain style) names the input at fault.
problem make_problem(problem_kind kind, std::string detail = {}, std::string field = {});

// A business rejection. `current_version` comes with conflicts (commands::outcome).
problem problem_for(const domain::rejection& r,
                    std::optional<std::int64_t> current_version = std::nullopt);

// A store failure. Messages of internal failures are not shown to the client (they are logged).
problem problem_for(const infra::store_error& e);

// Inside a catch block: the current exception as a problem (problem_error, store errors,
// std::exception, anything else → 500). Logs server-side failures with the request id.
problem problem_for_current_exception(std::string_view request_id);

}  // namespace realmkit::api

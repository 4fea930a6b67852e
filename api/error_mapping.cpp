#include "api/error_mapping.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "infra/event_store.hpp"
#include "infra/privacy/subject_keys.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::api {
namespace {

using enum problem_kind;

constexpr std::array<problem_type_info, 22> kTable{{
    {validation, 422, "urn:realmkit:problem:validation", "The request has an invalid field"},
    {malformed_json, 400, "urn:realmkit:problem:malformed-json", "The body is not acceptable JSON"},
    {malformed_request, 400, "urn:realmkit:problem:malformed-request", "The request is malformed"},
    {unsupported_media_type, 415, "urn:realmkit:problem:unsupported-media-type",
     "The body must be application/json"},
    {payload_too_large, 413, "urn:realmkit:problem:payload-too-large", "The body is too large"},
    {headers_too_large, 431, "urn:realmkit:problem:headers-too-large",
     "The request headers are too large"},
    {not_found, 404, "urn:realmkit:problem:not-found", "The resource does not exist"},
    {route_not_found, 404, "urn:realmkit:problem:route-not-found", "No such path"},
    {method_not_allowed, 405, "urn:realmkit:problem:method-not-allowed",
     "The method is not allowed on this path"},
    {already_exists, 409, "urn:realmkit:problem:already-exists", "The resource already exists"},
    {invalid_state, 409, "urn:realmkit:problem:invalid-state",
     "The resource's state does not allow this"},
    {version_conflict, 409, "urn:realmkit:problem:version-conflict",
     "The resource was changed by someone else"},
    {idempotency_key_reused, 422, "urn:realmkit:problem:idempotency-key-reused",
     "The idempotency key was used for a different request"},
    {invalid_append, 422, "urn:realmkit:problem:invalid-append", "The write was refused"},
    {unauthorized, 401, "urn:realmkit:problem:unauthorized", "Authentication is required"},
    {forbidden, 403, "urn:realmkit:problem:forbidden", "Not allowed"},
    {origin_not_allowed, 403, "urn:realmkit:problem:origin-not-allowed",
     "The origin is not allowed"},
    {too_many_requests, 429, "urn:realmkit:problem:too-many-requests", "Too many requests"},
    {overloaded, 503, "urn:realmkit:problem:overloaded", "The server is busy"},
    {shutting_down, 503, "urn:realmkit:problem:shutting-down", "The server is shutting down"},
    {unavailable, 503, "urn:realmkit:problem:unavailable",
     "A service the request needs is unavailable"},
    {internal, 500, "urn:realmkit:problem:internal", "Internal server error"},
}};

constexpr bool table_is_indexed_by_kind() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].kind) != i) return false;
  }
  return true;
}
// One row per kind, in the enum's order, so info() is an index and a new kind needs a row.
static_assert(table_is_indexed_by_kind() && kTable.back().kind == internal,
              "kTable rows must follow problem_kind's order");

}  // namespace

std::span<const problem_type_info> problem_types() {
  return kTable;
}

const problem_type_info& info(problem_kind kind) {
  return kTable[static_cast<std::size_t>(kind)];
}

problem make_problem(problem_kind kind, std::string detail, std::string field) {
  const auto& row = info(kind);
  problem p;
  p.status = row.status;
  p.type = std::string(row.type);
  p.title = std::string(row.title);
  p.detail = std::move(detail);
  p.field = std::move(field);
  if (row.status == 503) p.headers.emplace("Retry-After", "1");
  return p;
}

problem problem_for(const domain::rejection& r, std::optional<std::int64_t> current_version) {
  problem_kind kind = validation;
  switch (r.code) {
    case domain::rejection_code::invalid:
      kind = validation;
      break;
    case domain::rejection_code::not_found:
      kind = not_found;
      break;
    case domain::rejection_code::already_exists:
      kind = already_exists;
      break;
    case domain::rejection_code::invalid_state:
      kind = invalid_state;
      break;
    case domain::rejection_code::conflict:
      kind = version_conflict;
      break;
  }
  auto p = make_problem(kind, r.reason, r.field);
  if (kind == version_conflict) p.current_version = current_version;
  return p;
}

problem problem_for(const infra::store_error& e) {
  if (const auto* c = dynamic_cast<const infra::wrong_expected_version*>(&e)) {
    auto p =
        make_problem(version_conflict,
                     "stream " + c->stream_id() + " is at version " + std::to_string(c->actual()),
                     "expected_version");
    p.current_version = c->actual();
    return p;
  }
  if (const auto* a = dynamic_cast<const infra::invalid_append*>(&e)) {
    return make_problem(invalid_append, a->what(), a->field());
  }
  if (dynamic_cast<const infra::idempotency_key_reused*>(&e)) {
    return make_problem(idempotency_key_reused,
                        "this Idempotency-Key was already used with a different request");
  }
  if (dynamic_cast<const infra::privacy::subject_erased*>(&e)) {
    return make_problem(invalid_state,
                        "the person's data was erased; nothing personal can be added", "erased");
  }
  if (dynamic_cast<const infra::store_unavailable*>(&e)) {
    return make_problem(unavailable, "the event store is unavailable; retry shortly");
  }
  // corrupt_event and any other store failure: the details stay in the server's log.
  return make_problem(internal);
}

problem problem_for_current_exception(std::string_view request_id) {
  try {
    throw;
  } catch (const problem_error& e) {
    return e.get();
  } catch (const infra::store_error& e) {
    auto p = problem_for(e);
    if (p.status >= 500) {
      spdlog::error("request {}: store failure: {}", request_id, e.what());
    }
    return p;
  } catch (const infra::sql::error& e) {
    if (!e.transient()) {
      spdlog::error("request {}: read-model database failure: {}", request_id, e.what());
      return make_problem(internal);
    }
    spdlog::warn("request {}: read-model database unavailable: {}", request_id, e.what());
    return make_problem(unavailable, "the read-model database is unavailable; retry shortly");
  } catch (const std::exception& e) {
    spdlog::error("request {}: unhandled exception: {}", request_id, e.what());
    return make_problem(internal);
  } catch (...) {
    spdlog::error("request {}: unhandled non-standard exception", request_id);
    return make_problem(internal);
  }
}

}  // namespace realmkit::api

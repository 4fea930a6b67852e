#include "api/crm/read_model_support.hpp"

#include <chrono>
#include <thread>

#include "infra/json/json_time.hpp"
#include "projections/catalog.hpp"
#include "projections/projector.hpp"

namespace realmkit::api::crm {
namespace {

using namespace std::chrono_literals;

std::optional<std::int64_t> min_position_of(const http_request& request) {
  const auto text = request.query_param("min_position");
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  if (text->empty() || text->size() > 18) fail("min_position", "must be a non-negative integer");
  for (char c : *text) {
    if (c < '0' || c > '9') fail("min_position", "must be a non-negative integer");
    value = value * 10 + (c - '0');
  }
  return value;
}

// Waits without holding a session: the projector tells when its projections move; a process
// without one (an API-only role) looks at the catalog now and then.
void await(const request_scope& scope, std::int64_t position,
           const std::vector<std::string>& projections, infra::sql::database& db) {
  const auto& services = scope.services();
  const auto wait = services.max_wait;
  bool reached = false;
  if (services.projector) {
    reached = services.projector->wait_for(position, wait, projections);
  } else {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      {
        auto session = db.acquire();
        reached = true;
        for (const auto& name : projections) {
          const auto live = projections::live_generation(*session, name);
          reached = reached && live && live->position >= position;
        }
      }
      if (reached || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(20ms);
    }
  }
  if (!reached) {
    throw problem_error(
        make_problem(problem_kind::unavailable, "the read models have not reached position " +
                                                    std::to_string(position) + " within " +
                                                    std::to_string(wait.count()) + " ms; retry"));
  }
}

}  // namespace

void await_read_models(const request_scope& scope, const std::vector<std::string>& projections) {
  const auto position = min_position_of(scope.request());
  if (!position) return;
  auto* db = scope.services().read_db;
  if (!db) {
    throw problem_error(
        make_problem(problem_kind::unavailable, "this process serves no read models"));
  }
  await(scope, *position, projections, *db);
}

void add_read_route(router& routes, crm_services& services, std::string pattern, std::string name,
                    auth::permission permission, std::string summary, std::string response_schema,
                    std::vector<std::string> projections, read_handler handle) {
  route r;
  r.method = "GET";
  r.pattern = std::move(pattern);
  r.name = std::move(name);
  r.permission = std::string(auth::to_string(permission));
  r.summary = std::move(summary);
  r.blocking = true;  // database reads: the worker pool, never an I/O thread
  r.response_schema = std::move(response_schema);
  r.handle = [&services, permission, projections = std::move(projections),
              handle = std::move(handle)](const http_request& request) {
    request_scope scope(services, request);
    // The guard checks the permission too; checking here keeps the route safe behind any guard.
    if (!auth::has_permission(scope.caller().role, permission)) {
      forbid("the role " + std::string(to_string(scope.caller().role)) + " lacks " +
             std::string(auth::to_string(permission)));
    }
    auto* db = services.read_db;
    if (!db) {
      throw problem_error(
          make_problem(problem_kind::unavailable, "this process serves no read models"));
    }
    try {
      if (const auto position = min_position_of(request)) {
        await(scope, *position, projections, *db);
      }
      auto session = db->acquire();
      return handle(scope, *session);
    } catch (const infra::sql::error& e) {
      if (!e.transient()) throw;
      throw problem_error(
          make_problem(problem_kind::unavailable, "the read-model database is unavailable; retry"));
    }
  };
  routes.add(std::move(r));
}

query_reader::query_reader(const http_request& request,
                           std::initializer_list<std::string_view> known)
    : request_(request) {
  std::vector<std::string_view> seen;
  for (const auto& [name, value] : request.query) {
    bool allowed = name == "min_position";
    for (auto k : known) allowed = allowed || k == name;
    if (!allowed) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(name, "is not a parameter of this query (it takes " + list + ", min_position)");
    }
    for (auto s : seen) {
      if (s == name) fail(name, "is given more than once");
    }
    seen.push_back(name);
  }
}

std::optional<std::string> query_reader::text(std::string_view name) const {
  const auto value = request_.query_param(name);
  if (!value) return std::nullopt;
  return std::string(*value);
}

std::optional<std::string> query_reader::id(std::string_view name) const {
  auto value = text(name);
  if (value && domain::rules::check_id("", *value)) fail(std::string(name), "is not a valid id");
  return value;
}

std::optional<domain::timestamp> query_reader::time(std::string_view name) const {
  const auto value = text(name);
  if (!value) return std::nullopt;
  const auto t = infra::parse_timestamp(*value);
  if (!t) fail(std::string(name), "must be an RFC 3339 date-time, e.g. 2026-11-27T12:00:00Z");
  return t;
}

std::size_t query_reader::limit(std::size_t fallback, std::size_t max) const {
  const auto value = text("limit");
  if (!value) return fallback;
  std::size_t n = 0;
  bool ok = !value->empty() && value->size() <= 6;
  for (char c : *value) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  if (!ok || n < 1 || n > max) fail("limit", "must be between 1 and " + std::to_string(max));
  return n;
}

std::string page_schema(std::string_view item_properties, std::string_view extra) {
  std::string out =
      R"({"type":"object","required":["items","next_cursor","position"],"properties":{)"
      R"("items":{"type":"array","items":{"type":"object","properties":{)";
  out += item_properties;
  out += R"(}}},"next_cursor":{"type":["string","null"]},"position":{"type":"integer"})";
  if (!extra.empty()) {
    out += ',';
    out += extra;
  }
  out += "}}";
  return out;
}

}  // namespace realmkit::api::crm

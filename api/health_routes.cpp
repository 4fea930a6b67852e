#include "api/health_routes.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/error_mapping.hpp"

namespace realmkit::api {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string checks_json(const std::vector<readiness::outcome>& outcomes) {
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  w.StartObject();
  for (const auto& o : outcomes) {
    write(w, o.name);
    write(w, o.failure ? *o.failure : "ok");
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

http_response readyz(const readiness& ready, const http_request& request) {
  const auto outcomes = ready.run();
  rapidjson::StringBuffer failing_buffer;
  json_writer failing(failing_buffer);
  failing.StartArray();
  std::string names;
  for (const auto& o : outcomes) {
    if (!o.failure) continue;
    write(failing, o.name);
    if (!names.empty()) names += ", ";
    names += o.name;
  }
  failing.EndArray();
  if (names.empty()) {
    return http_response::json(200,
                               "{\"status\":\"ready\",\"checks\":" + checks_json(outcomes) + "}");
  }
  auto p = make_problem(problem_kind::unavailable, "not ready: " + names);
  p.extensions.emplace_back("failing",
                            std::string(failing_buffer.GetString(), failing_buffer.GetSize()));
  p.extensions.emplace_back("checks", checks_json(outcomes));
  return to_response(std::move(p), request.request_id);
}

}  // namespace

void readiness::add(std::string name, check c) {
  std::lock_guard lock(mutex_);
  checks_.emplace_back(std::move(name), std::move(c));
}

std::vector<readiness::outcome> readiness::run() const {
  std::vector<std::pair<std::string, check>> checks;
  {
    std::lock_guard lock(mutex_);
    checks = checks_;
  }
  std::vector<outcome> out;
  for (const auto& [name, c] : checks) {
    outcome o{name, std::nullopt};
    try {
      o.failure = c();
    } catch (const std::exception& e) {
      o.failure = std::string("failed: ") + e.what();
    } catch (...) {
      o.failure = "failed";
    }
    out.push_back(std::move(o));
  }
  return out;
}

void add_health_routes(router& routes, const readiness& ready,
                       const infra::metrics_registry& metrics) {
  route healthz;
  healthz.method = "GET";
  healthz.pattern = "/healthz";
  healthz.name = "ops.healthz";
  healthz.blocking = false;
  healthz.anonymous = true;
  healthz.summary = "Liveness: the process answers";
  healthz.handle = [](const http_request&) {
    return http_response::json(200, "{\"status\":\"ok\"}");
  };
  routes.add(std::move(healthz));

  route ready_route;
  ready_route.method = "GET";
  ready_route.pattern = "/readyz";
  ready_route.name = "ops.readyz";
  ready_route.blocking = true;  // checks reach the database
  ready_route.anonymous = true;
  ready_route.summary = "Readiness: every dependency answers";
  ready_route.handle = [&ready](const http_request& request) { return readyz(ready, request); };
  routes.add(std::move(ready_route));

  route metrics_route;
  metrics_route.method = "GET";
  metrics_route.pattern = "/metrics";
  metrics_route.name = "ops.metrics";
  metrics_route.blocking = false;  // reads atomics; microseconds
  metrics_route.anonymous = true;
  metrics_route.summary = "Prometheus metrics";
  metrics_route.handle = [&metrics](const http_request&) {
    return http_response::text(200, metrics.expose(),
                               std::string(infra::metrics_registry::kContentType));
  };
  routes.add(std::move(metrics_route));
}

}  // namespace realmkit::api

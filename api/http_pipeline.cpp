#include "api/http_pipeline.hpp"

#include <spdlog/spdlog.h>

#include "api/access_log.hpp"
#include "api/error_mapping.hpp"
#include "api/problem.hpp"
#include "api/request_id.hpp"

namespace realmkit::api {
namespace {

// Pseudo route names for requests that reach no handler; they keep metric labels bounded.
constexpr std::string_view kUnmatched = "unmatched";
constexpr std::string_view kPreflight = "preflight";

constexpr const char* kStatusClasses[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

}  // namespace

request_summary request_summary::of(const http_request& request,
                                    std::chrono::steady_clock::time_point start) {
  request_summary s;
  s.method = request.method;
  s.path = request.path;
  s.route_name = request.route_name;
  s.request_id = request.request_id;
  s.remote = request.remote_address;
  if (const auto* origin = request.header("Origin")) s.origin = *origin;
  s.bytes_in = request.body.size();
  s.start = start;
  return s;
}

http_pipeline::http_pipeline(const router& routes, infra::metrics_registry& metrics,
                             pipeline_options options)
    : routes_(routes),
      metrics_(metrics),
      cors_(std::move(options.cors)),
      log_enabled_(options.access_log),
      access_log_(options.access_logger) {
  if (log_enabled_ && !access_log_) access_log_ = access_logger();
  // Every series exists from the start, so dashboards and rate() see zeros rather than gaps.
  for (const auto& r : routes_.routes()) route_metrics_.emplace(r.name, metrics_for(r.name));
  for (const auto name : {kUnmatched, kPreflight, std::string_view("rejected")}) {
    route_metrics_.emplace(std::string(name), metrics_for(name));
  }
}

http_pipeline::~http_pipeline() = default;

void http_pipeline::add_guard(guard g) {
  guards_.push_back(std::move(g));
}

http_pipeline::route_metrics http_pipeline::metrics_for(std::string_view route_name) const {
  if (const auto it = route_metrics_.find(std::string(route_name)); it != route_metrics_.end()) {
    return it->second;
  }
  route_metrics m{};
  for (int i = 0; i < 5; ++i) {
    m.by_class[i] = &metrics_.counter_for(
        "realmkit_http_requests_total", "HTTP requests answered, by route and status class",
        {{"route", std::string(route_name)}, {"status", kStatusClasses[i]}});
  }
  m.duration =
      &metrics_.histogram_for("realmkit_http_request_duration_seconds",
                              "Time from a complete request to its response being ready, by route",
                              infra::latency_buckets(), {{"route", std::string(route_name)}});
  return m;
}

http_pipeline::prepared http_pipeline::prepare(http_request& request) const {
  request.request_id = request_id_for(request.header("X-Request-Id"));
  prepared out;
  auto m = routes_.match(request.method, request.path);

  if (cors_policy::is_preflight(request) && cors_.enabled()) {
    request.route_name = std::string(kPreflight);
    if (!cors_.allows(*request.header("Origin"))) {
      out.response = to_response(
          make_problem(problem_kind::origin_not_allowed,
                       "the origin " + *request.header("Origin") + " may not call this API"),
          request.request_id);
    } else if (m.result == route_match::kind::not_found ||
               m.result == route_match::kind::bad_path) {
      out.response = to_response(make_problem(problem_kind::route_not_found), request.request_id);
    } else {
      out.response = cors_.preflight(request, m.allow);
    }
    return out;
  }

  switch (m.result) {
    case route_match::kind::found:
      break;
    case route_match::kind::options: {
      request.route_name = std::string(kUnmatched);
      out.response = http_response::empty(204);
      out.response->headers.emplace("Allow", m.allow);
      return out;
    }
    case route_match::kind::method_not_allowed: {
      request.route_name = std::string(kUnmatched);
      auto p = make_problem(problem_kind::method_not_allowed,
                            request.method + " is not allowed here; see the Allow header");
      p.headers.emplace("Allow", m.allow);
      out.response = to_response(std::move(p), request.request_id);
      return out;
    }
    case route_match::kind::not_found:
      request.route_name = std::string(kUnmatched);
      out.response =
          to_response(make_problem(problem_kind::route_not_found, "no route for " + request.path),
                      request.request_id);
      return out;
    case route_match::kind::bad_path:
      request.route_name = std::string(kUnmatched);
      out.response = to_response(
          make_problem(problem_kind::malformed_request, "the path has a malformed %-escape"),
          request.request_id);
      return out;
  }

  request.path_params = std::move(m.params);
  request.route_name = m.matched->name;
  for (const auto& g : guards_) {
    try {
      if (auto refused = g(*m.matched, request)) {
        out.response = std::move(refused);
        return out;
      }
    } catch (...) {
      out.response =
          to_response(problem_for_current_exception(request.request_id), request.request_id);
      return out;
    }
  }
  out.matched = m.matched;
  return out;
}

http_response http_pipeline::run(const route& r, const http_request& request) const {
  try {
    return r.handle(request);
  } catch (...) {
    return to_response(problem_for_current_exception(request.request_id), request.request_id);
  }
}

void http_pipeline::finish(const request_summary& summary, http_response& response) const {
  auto& h = response.headers;
  h.insert_or_assign("X-Request-Id", summary.request_id);
  h.insert_or_assign("X-Content-Type-Options", "nosniff");
  // API answers are per-user and change with every command: never cached. A handler serving
  // static files sets its own Cache-Control and Content-Security-Policy.
  h.try_emplace("Cache-Control", "no-store");
  h.try_emplace("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  cors_.apply(summary.origin ? &*summary.origin : nullptr, response);

  const auto elapsed = std::chrono::steady_clock::now() - summary.start;
  const auto route = summary.route_name.empty() ? std::string(kUnmatched) : summary.route_name;
  const auto m = metrics_for(route);
  const int cls = response.status / 100;
  if (cls >= 1 && cls <= 5) m.by_class[cls - 1]->inc();
  m.duration->observe(std::chrono::duration<double>(elapsed).count());

  if (log_enabled_) {
    access_record record;
    record.method = summary.method;
    record.route = route;
    record.path = summary.path;
    record.status = response.status;
    record.duration = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
    record.bytes_in = summary.bytes_in;
    record.bytes_out = response.body.size();
    record.request_id = summary.request_id;
    record.remote = summary.remote;
    access_log_->info("{}", format_access_record(record, std::chrono::system_clock::now()));
  }
}

http_response http_pipeline::handle(http_request request) const {
  const auto start = std::chrono::steady_clock::now();
  auto prepared = prepare(request);
  http_response response =
      prepared.response ? std::move(*prepared.response) : run(*prepared.matched, request);
  finish(request_summary::of(request, start), response);
  return response;
}

}  // namespace realmkit::api

#include "api/server_state.hpp"

namespace realmkit::api::detail {
namespace {

infra::counter& connection_error(infra::metrics_registry& m, const char* reason) {
  return m.counter_for("realmkit_http_connection_errors_total",
                       "Connections answered with an error and closed, or cut, by reason",
                       {{"reason", reason}});
}

}  // namespace

server_state::server_state(server_options o, const http_pipeline& p, infra::worker_pool& w,
                           infra::metrics_registry& metrics)
    : options(std::move(o)),
      pipeline(p),
      pool(w),
      in_flight_gauge(metrics.gauge_for("realmkit_http_requests_in_flight",
                                        "Requests read and not yet answered")),
      connections_gauge(metrics.gauge_for("realmkit_http_connections", "Open HTTP connections")),
      timeouts(connection_error(metrics, "read_timeout")),
      header_limit_hits(connection_error(metrics, "header_limit")),
      body_limit_hits(connection_error(metrics, "body_limit")),
      malformed(connection_error(metrics, "malformed")),
      connection_limit_hits(connection_error(metrics, "connection_limit")),
      overloaded(metrics.counter_for("realmkit_http_overloaded_total",
                                     "Requests answered 503 because the worker pool was full")) {}

void server_state::add_session(const std::shared_ptr<http_session>& session) {
  std::lock_guard lock(mutex_);
  if (sessions_.emplace(session.get(), session).second) session_count_.fetch_add(1);
  connections_gauge.inc();
}

void server_state::remove_session(const http_session* session) {
  {
    std::lock_guard lock(mutex_);
    if (sessions_.erase(session) == 0) return;
    session_count_.fetch_sub(1);
    connections_gauge.dec();
  }
  changed_.notify_all();
}

std::vector<std::shared_ptr<http_session>> server_state::sessions() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<http_session>> out;
  out.reserve(sessions_.size());
  for (const auto& [raw, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

void server_state::request_started() {
  in_flight_.fetch_add(1);
  in_flight_gauge.inc();
}

void server_state::requests_finished(std::size_t n) {
  if (n == 0) return;
  in_flight_gauge.add(-static_cast<double>(n));
  if (in_flight_.fetch_sub(n) == n) notify();
}

void server_state::task_submitted() {
  pending_tasks_.fetch_add(1);
}

void server_state::task_done() {
  if (pending_tasks_.fetch_sub(1) == 1) notify();
}

void server_state::notify() {
  // Taking the mutex orders this notification after a waiter's predicate check, so none is lost.
  { std::lock_guard lock(mutex_); }
  changed_.notify_all();
}

}  // namespace realmkit::api::detail

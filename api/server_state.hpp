// What the listener, the sessions and the server share: options, the pipeline, the pool, counters
// and the registry of live sessions used to drain them. Internal to api/; no Beast here.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/http_pipeline.hpp"
#include "api/server.hpp"
#include "infra/metrics.hpp"
#include "infra/worker_pool.hpp"

namespace realmkit::api::detail {

class http_session;

struct server_state {
  server_state(server_options o, const http_pipeline& p, infra::worker_pool& w,
               infra::metrics_registry& metrics);

  const server_options options;
  const http_pipeline& pipeline;
  infra::worker_pool& pool;

  // Upgrade handlers by exact path; filled before start, then read-only.
  std::map<std::string, upgrade_handler*, std::less<>> upgrades;

  // Set when stop() begins: sessions answer what they have read and close.
  std::atomic<bool> draining{false};
  // Set when the drain deadline passes: queued blocking work is skipped.
  std::atomic<bool> abandoning{false};

  // Instruments (owned by the registry).
  infra::gauge& in_flight_gauge;
  infra::gauge& connections_gauge;
  infra::counter& timeouts;           // headers or body not received in time
  infra::counter& header_limit_hits;  // 431
  infra::counter& body_limit_hits;    // 413
  infra::counter& malformed;          // 400 for HTTP the parser refused
  infra::counter& connection_limit_hits;
  infra::counter& overloaded;  // 503 because the worker pool was full

  void add_session(const std::shared_ptr<http_session>& session);
  void remove_session(const http_session* session);
  std::vector<std::shared_ptr<http_session>> sessions() const;
  // Atomic, so wait predicates (which run under the mutex) may read it.
  std::size_t session_count() const { return session_count_.load(); }

  void request_started();
  void requests_finished(std::size_t n);
  std::size_t in_flight() const { return in_flight_.load(); }

  void task_submitted();
  void task_done();
  std::size_t pending_tasks() const { return pending_tasks_.load(); }

  // Waits until pred() or the deadline; pred is re-checked whenever a counter above changes.
  template <class Pred>
  bool wait_until(std::chrono::steady_clock::time_point deadline, Pred pred) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, pred);
  }
  template <class Pred>
  void wait(Pred pred) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, pred);
  }

 private:
  void notify();

  mutable std::mutex mutex_;  // guards sessions_; pairs with changed_ for the counters' waiters
  std::condition_variable changed_;
  std::unordered_map<const http_session*, std::weak_ptr<http_session>> sessions_;
  std::atomic<std::size_t> session_count_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> pending_tasks_{0};  // blocking handlers submitted and not yet returned
};

}  // namespace realmkit::api::detail

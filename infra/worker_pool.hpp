// A fixed set of threads for blocking work (database calls), so that I/O threads never block.
// The queue is bounded: a saturated pool refuses new work at once instead of letting latency grow
// without limit, and the caller answers "try again later".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "infra/metrics.hpp"

namespace realmkit::infra {

struct worker_pool_options {
  std::string name = "db";         // the metrics label and the thread name prefix
  std::size_t threads = 4;         // at least 1
  std::size_t queue_limit = 1024;  // tasks waiting for a thread, beyond those running
};

class worker_pool final {
 public:
  // With a registry, the pool reports its queue depth, busy threads, rejections and queue wait.
  explicit worker_pool(worker_pool_options options, metrics_registry* metrics = nullptr);
  // Stops (see stop()).
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // Queues a task. False, and the task is destroyed unrun, when the queue is full or the pool is
  // stopping. A task that throws is logged; the worker carries on.
  [[nodiscard]] bool try_submit(std::function<void()> task);

  // Refuses new tasks, runs every task already queued, and joins the threads. Idempotent; call it
  // from the owner's thread only.
  void stop();

  std::size_t queue_depth() const;
  std::size_t busy() const;  // threads running a task now
  std::size_t threads() const { return threads_.size(); }
  std::size_t queue_limit() const { return options_.queue_limit; }

 private:
  struct item {
    std::function<void()> task;
    std::chrono::steady_clock::time_point queued_at;
  };
  void run(std::size_t index);

  const worker_pool_options options_;
  mutable std::mutex mutex_;  // guards queue_, busy_ and stopping_
  std::condition_variable ready_;
  std::deque<item> queue_;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;

  counter* rejected_ = nullptr;
  histogram* wait_ = nullptr;
  metric_callback depth_metric_;
  metric_callback busy_metric_;
};

}  // namespace realmkit::infra

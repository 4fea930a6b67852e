#include "infra/worker_pool.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace realmkit::infra {

worker_pool::worker_pool(worker_pool_options options, metrics_registry* metrics)
    : options_(std::move(options)) {
  if (options_.threads == 0) throw std::invalid_argument("a worker pool needs at least one thread");
  if (metrics) {
    const metric_labels labels{{"pool", options_.name}};
    rejected_ = &metrics->counter_for("realmkit_worker_pool_rejected_total",
                                      "Tasks refused because the pool's queue was full", labels);
    wait_ = &metrics->histogram_for("realmkit_worker_pool_wait_seconds",
                                    "Time tasks spent queued before a thread picked them up",
                                    latency_buckets(), labels);
    depth_metric_ = metrics->gauge_callback("realmkit_worker_pool_queue_depth",
                                            "Tasks waiting for a worker thread", labels,
                                            [this] { return static_cast<double>(queue_depth()); });
    busy_metric_ = metrics->gauge_callback("realmkit_worker_pool_busy_threads",
                                           "Worker threads running a task", labels,
                                           [this] { return static_cast<double>(busy()); });
  }
  threads_.reserve(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this, i] { run(i); });
  }
}

worker_pool::~worker_pool() {
  stop();
}

bool worker_pool::try_submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < options_.queue_limit) {
      queue_.push_back({std::move(task), std::chrono::steady_clock::now()});
      ready_.notify_one();
      return true;
    }
  }
  if (rejected_) rejected_->inc();
  return false;
}

void worker_pool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t worker_pool::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t worker_pool::busy() const {
  std::lock_guard lock(mutex_);
  return busy_;
}

void worker_pool::run(std::size_t index) {
  const std::string thread_name = (options_.name + "-" + std::to_string(index)).substr(0, 15);
  pthread_setname_np(pthread_self(), thread_name.c_str());
  std::unique_lock lock(mutex_);
  for (;;) {
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued has run
    item next = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    if (wait_) {
      wait_->observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - next.queued_at).count());
    }
    try {
      next.task();
    } catch (const std::exception& e) {
      spdlog::error("worker pool {}: task failed: {}", options_.name, e.what());
    } catch (...) {
      spdlog::error("worker pool {}: task failed with an unknown exception", options_.name);
    }
    next.task = nullptr;  // release what the task captured before the pool counts it done
    lock.lock();
    --busy_;
  }
}

}  // namespace realmkit::infra

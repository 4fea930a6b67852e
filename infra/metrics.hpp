// Process metrics (counters, gauges, histograms with labels) and their Prometheus text exposition.
// Instruments are created once at start-up and then updated lock-free on hot paths.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace realmkit::infra {

// Label name → value, e.g. {{"route", "deals.get"}, {"status", "2xx"}}. Order does not matter.
using metric_labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class counter final {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down (in-flight requests, connections).
class gauge final {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void inc() { add(1); }
  void dec() { add(-1); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds, ascending), plus their sum and count.
class histogram final {
 public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v);

  struct snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  snapshot read() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // one per bound, then +Inf
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Latency buckets in seconds, from 0.5 ms to 10 s.
std::span<const double> latency_buckets();

class metrics_registry;

// Keeps a computed gauge registered; unregisters it when destroyed, so the callback never outlives
// what it reads.
class [[nodiscard]] metric_callback {
 public:
  metric_callback() = default;
  metric_callback(metric_callback&& other) noexcept { *this = std::move(other); }
  metric_callback& operator=(metric_callback&& other) noexcept;
  metric_callback(const metric_callback&) = delete;
  metric_callback& operator=(const metric_callback&) = delete;
  ~metric_callback();

 private:
  friend class metrics_registry;
  metric_callback(metrics_registry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
  metrics_registry* registry_ = nullptr;
  std::uint64_t id_ = 0;
};

// All metrics of the process. Owned by main and passed by reference. The *_for functions return the
// instrument for a name and label set, creating it on first use; the reference stays valid for the
// registry's lifetime, so callers look it up once and keep it. Names and labels are checked:
// a name used with two types, two help texts, two bucket layouts or two label-name sets throws
// std::invalid_argument, as does a name that Prometheus would refuse.
class metrics_registry final {
 public:
  metrics_registry();
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  counter& counter_for(std::string_view name, std::string_view help, metric_labels labels = {});
  gauge& gauge_for(std::string_view name, std::string_view help, metric_labels labels = {});
  histogram& histogram_for(std::string_view name, std::string_view help,
                           std::span<const double> buckets, metric_labels labels = {});
  // A gauge computed at scrape time (a queue's depth). Keep the returned token as long as the
  // callback may run.
  metric_callback gauge_callback(std::string_view name, std::string_view help, metric_labels labels,
                                 std::function<double()> read);

  // The Prometheus text exposition format 0.0.4: families sorted by name, series by labels.
  std::string expose() const;
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  friend class metric_callback;
  struct family;
  family& family_for(std::string_view name, std::string_view help, int type,
                     const metric_labels& labels, std::span<const double> buckets);
  void remove_callback(std::uint64_t id);

  mutable std::mutex mutex_;  // guards families_ and next_callback_id_; instruments are atomic
  std::map<std::string, std::unique_ptr<family>, std::less<>> families_;
  std::uint64_t next_callback_id_ = 1;
};

}  // namespace realmkit::infra

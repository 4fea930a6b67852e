// Helpers for event store tests: building writes, catching a typed refusal, and collecting what
// worker threads and subscriptions saw so the test's own thread can assert on it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "infra/event_store.hpp"

namespace realmkit::testing::contract {

using namespace std::chrono_literals;
using infra::append_result;
using infra::event_store;
using infra::expected_version;
using infra::idempotency_key;
using infra::kNoStream;
using infra::new_event;
using infra::recorded_event;
using infra::stream_write;

inline new_event event(std::string id, std::string data = R"({"n":1})",
                       std::string type = "test.happened.v1") {
  return new_event{std::move(id), std::move(type), 1, std::move(data),
                   R"({"actor":"user-1","correlation_id":"c-1"})"};
}

inline stream_write write(std::string stream, expected_version expected,
                          std::vector<new_event> events) {
  return stream_write{std::move(stream), expected, std::move(events)};
}

// The exception of type E that f throws, or nullopt when it throws nothing. Other exceptions
// propagate and fail the test with their message.
template <class E, class F>
std::optional<E> thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  return std::nullopt;
}

inline std::vector<std::int64_t> positions(const std::vector<recorded_event>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e.global_position);
  return out;
}

inline std::vector<std::int64_t> iota(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  for (auto i = first; i <= last; ++i) out.push_back(i);
  return out;
}

inline std::vector<recorded_event> read_everything(event_store& store) {
  return store.read_all(0, 1'000'000);
}

// Every failure a worker thread saw, checked on the test's thread (doctest asserts there).
class thread_errors {
 public:
  void add(std::string what) {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::move(what));
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  std::mutex mutex_;  // guards errors_
  std::vector<std::string> errors_;
};

// Events a subscription handed over, with a wait for a count that gives up at a deadline.
class event_sink {
 public:
  void add(const recorded_event& e) {
    {
      std::lock_guard lock(mutex_);
      positions_.push_back(e.global_position);
    }
    cv_.notify_all();
  }
  void fail(std::exception_ptr error) {
    {
      std::lock_guard lock(mutex_);
      failed_ = true;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        failure_ = e.what();
      } catch (...) {
        failure_ = "unknown error";
      }
    }
    cv_.notify_all();
  }
  // True when at least `count` events arrived before the deadline.
  bool wait_for(std::size_t count, std::chrono::seconds deadline = 30s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, deadline, [&] { return positions_.size() >= count || failed_; }) &&
           !failed_;
  }
  std::vector<std::int64_t> positions() {
    std::lock_guard lock(mutex_);
    return positions_;
  }
  std::string failure() {
    std::lock_guard lock(mutex_);
    return failure_;
  }

 private:
  std::mutex mutex_;  // guards positions_, failed_ and failure_
  std::condition_variable cv_;
  std::vector<std::int64_t> positions_;
  bool failed_ = false;
  std::string failure_;
};

}  // namespace realmkit::testing::contract

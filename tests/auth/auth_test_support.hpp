// Shared by the auth tests: a clock the test moves by hand, so no test sleeps.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "api/auth/auth_types.hpp"

namespace realmkit::testing {

// Starts at 2025-01-01T00:00:00Z. Copies of fn() follow the same time.
class fake_clock {
 public:
  fake_clock()
      : now_(std::make_shared<std::atomic<api::auth::timestamp>>(
            api::auth::timestamp{std::chrono::seconds{1'735'689'600}})) {}

  api::auth::timestamp now() const { return now_->load(); }
  void advance(std::chrono::microseconds by) { now_->store(now_->load() + by); }
  void set(api::auth::timestamp t) { now_->store(t); }
  api::auth::clock_fn fn() const {
    return [now = now_] { return now->load(); };
  }

 private:
  std::shared_ptr<std::atomic<api::auth::timestamp>> now_;
};

}  // namespace realmkit::testing

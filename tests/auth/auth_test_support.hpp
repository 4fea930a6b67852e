// Shared by the auth tests: a clock the test moves by hand, so no test sleeps, and JWT payloads
// built claim by claim for the negative suites.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

using jwt_claims = std::vector<std::pair<std::string, std::string>>;

// The JSON of a payload: `claims` (name, raw JSON value), each of `changes` replacing the claim of
// its name or added; a claim with an empty value is left out.
inline std::string claims_json(jwt_claims claims, const jwt_claims& changes) {
  for (const auto& [name, value] : changes) {
    bool replaced = false;
    for (auto& claim : claims) {
      if (claim.first == name) {
        claim.second = value;
        replaced = true;
      }
    }
    if (!replaced) claims.emplace_back(name, value);
  }
  std::string json = "{";
  for (const auto& [name, value] : claims) {
    if (value.empty()) continue;
    if (json.size() > 1) json += ',';
    json += '"' + name + "\":" + value;
  }
  return json + "}";
}

}  // namespace realmkit::testing

// The in-process rate limiter: one token bucket per key, in shards so concurrent requests for
// different keys rarely share a lock, with a bounded number of keys.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "infra/rate_limit/rate_limiter.hpp"
#include "infra/rate_limit/token_bucket.hpp"

namespace realmkit::infra::rate_limit {

using steady_clock_fn = std::function<std::chrono::steady_clock::time_point()>;

struct token_bucket_limiter_options {
  token_bucket_config bucket;
  // At most this many keys are tracked. A new key beyond it evicts the least recently used key
  // of its shard; that key, if it ever comes back, starts with a full bucket again. Idle keys are
  // usually full already, so the eviction forgives nothing; evictions of keys that were not full
  // are counted (evicted_unfull) so a flood of addresses shows in the metrics.
  std::size_t max_keys = 100'000;
  std::size_t shards = 16;
  // The time source; steady_clock::now when empty. Tests inject a fake.
  steady_clock_fn clock;
};

class token_bucket_limiter final : public rate_limiter {
 public:
  // Throws std::invalid_argument for an invalid bucket or zero keys/shards.
  explicit token_bucket_limiter(token_bucket_limiter_options options);

  rate_decision try_acquire(std::string_view key, std::uint32_t cost = 1) override;

  // Keys currently tracked.
  std::size_t size() const;
  // Keys evicted for room while their bucket was not full (each was forgiven some tokens).
  std::uint64_t evicted_unfull() const { return evicted_unfull_.load(std::memory_order_relaxed); }
  const token_bucket_config& bucket() const { return options_.bucket; }

 private:
  struct entry {
    std::string key;
    token_bucket bucket;
  };
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct shard {
    mutable std::mutex mutex;  // guards lru and index
    std::list<entry> lru;      // most recently used first
    std::unordered_map<std::string, std::list<entry>::iterator, string_hash, std::equal_to<>> index;
  };

  shard& shard_for(std::string_view key);

  token_bucket_limiter_options options_;
  std::size_t max_keys_per_shard_;
  std::vector<std::unique_ptr<shard>> shards_;
  std::atomic<std::uint64_t> evicted_unfull_{0};
};

}  // namespace realmkit::infra::rate_limit

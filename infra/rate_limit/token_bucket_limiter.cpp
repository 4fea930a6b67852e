#include "infra/rate_limit/token_bucket_limiter.hpp"

#include <stdexcept>

namespace realmkit::infra::rate_limit {

token_bucket_limiter::token_bucket_limiter(token_bucket_limiter_options options)
    : options_(std::move(options)) {
  options_.bucket.validate();
  if (options_.max_keys == 0 || options_.shards == 0) {
    throw std::invalid_argument("token bucket limiter: max_keys and shards must be > 0");
  }
  if (options_.shards > options_.max_keys) options_.shards = options_.max_keys;
  if (!options_.clock) options_.clock = [] { return std::chrono::steady_clock::now(); };
  max_keys_per_shard_ = (options_.max_keys + options_.shards - 1) / options_.shards;
  shards_.reserve(options_.shards);
  for (std::size_t i = 0; i < options_.shards; ++i) shards_.push_back(std::make_unique<shard>());
}

token_bucket_limiter::shard& token_bucket_limiter::shard_for(std::string_view key) {
  return *shards_[string_hash{}(key) % shards_.size()];
}

rate_decision token_bucket_limiter::try_acquire(std::string_view key, std::uint32_t cost) {
  shard& s = shard_for(key);
  std::lock_guard lock(s.mutex);
  // Read under the lock, so the buckets of a shard see its clock readings in order.
  const auto now = options_.clock();
  if (auto found = s.index.find(key); found != s.index.end()) {
    s.lru.splice(s.lru.begin(), s.lru, found->second);
    return found->second->bucket.try_acquire(options_.bucket, now, cost);
  }
  if (s.index.size() >= max_keys_per_shard_) {
    entry& oldest = s.lru.back();
    if (!oldest.bucket.full_at(options_.bucket, now)) {
      evicted_unfull_.fetch_add(1, std::memory_order_relaxed);
    }
    s.index.erase(oldest.key);
    s.lru.pop_back();
  }
  s.lru.push_front(entry{std::string(key), token_bucket(options_.bucket, now)});
  s.index.emplace(s.lru.front().key, s.lru.begin());
  return s.lru.front().bucket.try_acquire(options_.bucket, now, cost);
}

std::size_t token_bucket_limiter::size() const {
  std::size_t total = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    total += s->index.size();
  }
  return total;
}

}  // namespace realmkit::infra::rate_limit

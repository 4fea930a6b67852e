#include "infra/redis/redis_connection_pool.hpp"

namespace realmkit::infra::redis {

redis_connection_pool::redis_connection_pool(redis_connection_options options, std::size_t max_idle)
    : options_(std::move(options)), max_idle_(max_idle) {}

std::pair<std::unique_ptr<redis_connection>, bool> redis_connection_pool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return {std::move(connection), true};
    }
  }
  // Connecting outside the lock: one slow connect must not hold up callers with a kept one.
  return {std::make_unique<redis_connection>(options_), false};
}

void redis_connection_pool::give_back(std::unique_ptr<redis_connection> connection) {
  if (!connection || connection->broken()) return;
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(connection));
}

void redis_connection_pool::clear() {
  std::vector<std::unique_ptr<redis_connection>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
  }
}

}  // namespace realmkit::infra::redis

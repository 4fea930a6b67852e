// A few Redis connections shared by many threads (the API's request threads): a caller takes one,
// runs its commands, and gives it back.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "infra/redis/redis_connection.hpp"

namespace realmkit::infra::redis {

class redis_connection_pool final {
 public:
  // Connects lazily. At most `max_idle` connections are kept between calls; more are opened when
  // more threads call at once, and closed when given back.
  redis_connection_pool(redis_connection_options options, std::size_t max_idle);

  // Runs fn(redis_connection&) and returns what it returns. A kept connection may have died while
  // idle (a Redis restart): when it throws redis_unavailable, fn runs once more on a new one.
  // Throws redis_unavailable when Redis cannot be reached, and what fn throws. fn reads every
  // reply it asked for before it throws, or the connection given back would be out of step.
  template <class F>
  auto run(F&& fn) {
    for (int attempt = 0;; ++attempt) {
      auto [connection, reused] = take();
      try {
        auto result = fn(*connection);
        give_back(std::move(connection));
        return result;
      } catch (const redis_unavailable&) {
        // Every kept connection is as suspect as this one.
        clear();
        if (!reused || attempt > 0) throw;
      } catch (...) {
        give_back(std::move(connection));
        throw;
      }
    }
  }

  // Closes the kept connections.
  void clear();
  const redis_connection_options& options() const { return options_; }

 private:
  // The connection, and whether it was kept from an earlier call.
  std::pair<std::unique_ptr<redis_connection>, bool> take();
  void give_back(std::unique_ptr<redis_connection> connection);

  redis_connection_options options_;
  std::size_t max_idle_;
  std::mutex mutex_;  // guards idle_
  std::vector<std::unique_ptr<redis_connection>> idle_;
};

}  // namespace realmkit::infra::redis

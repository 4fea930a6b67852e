#include "app/redis_rate_limits.hpp"

#include <memory>
#include <utility>

#include "infra/redis/redis_rate_limiter.hpp"

namespace realmkit::app {

api::limiter_factory redis_limiter_factory(redis_rate_limits_options options) {
  return [options = std::move(options)](std::string_view bucket_name,
                                        const infra::rate_limit::token_bucket_config& bucket)
             -> std::unique_ptr<infra::rate_limit::rate_limiter> {
    infra::redis::redis_rate_limiter_options o;
    o.url = options.url;
    o.name = options.name_prefix + std::string(bucket_name);
    o.bucket = bucket;
    o.retry_after = options.retry_after;
    o.metrics = options.metrics;
    return std::make_unique<infra::redis::redis_rate_limiter>(std::move(o));
  };
}

}  // namespace realmkit::app

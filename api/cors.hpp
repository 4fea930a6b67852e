// Cross-origin resource sharing: which browser origins may call the API, and the answers to their
// preflight requests. Origins are matched exactly against an allow-list.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"

namespace realmkit::api {

struct cors_options {
  // Exact origins ("https://crm.example.com", scheme://host[:port]). "*" allows every origin and is
  // refused together with allow_credentials. Empty: no cross-origin access.
  std::vector<std::string> allowed_origins;
  bool allow_credentials = false;
  std::vector<std::string> allowed_headers{"Authorization", "Content-Type", "Idempotency-Key",
                                           "If-Match", "X-Request-Id"};
  std::vector<std::string> exposed_headers{"X-Request-Id", "ETag", "Location", "Retry-After"};
  std::chrono::seconds max_age{600};
};

class cors_policy final {
 public:
  // Throws std::invalid_argument for "*" with credentials or an origin that is not
  // scheme://host[:port].
  explicit cors_policy(cors_options options);

  bool enabled() const { return !options_.allowed_origins.empty(); }
  bool allows(std::string_view origin) const;

  // OPTIONS with Origin and Access-Control-Request-Method.
  static bool is_preflight(const http_request& request);

  // The answer to a preflight for an allowed origin on a known path whose methods are `allow`
  // ("GET, HEAD, OPTIONS"): 204 with the Access-Control-Allow-* headers.
  http_response preflight(const http_request& request, std::string_view allow) const;

  // Adds the headers of an actual cross-origin response: Access-Control-Allow-Origin and friends
  // for an allowed origin, nothing else (so the browser withholds the response) otherwise. Adds
  // Vary: Origin whenever the answer depends on the origin.
  void apply(const std::string* origin, http_response& response) const;

 private:
  cors_options options_;
  bool any_origin_ = false;
  std::string allowed_headers_;  // joined once
  std::string exposed_headers_;
};

}  // namespace realmkit::api

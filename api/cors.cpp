#include "api/cors.hpp"

#include <algorithm>
#include <stdexcept>

namespace realmkit::api {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// scheme://host[:port], nothing after it: what a browser sends in Origin.
bool is_origin(std::string_view o) {
  const auto scheme_end = o.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  const auto host = o.substr(scheme_end + 3);
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' ||
           c == '[' || c == ']';
  });
}

void add_vary(http_response& response, std::string_view token) {
  auto& vary = response.headers["Vary"];
  if (vary.find(token) != std::string::npos) return;
  if (!vary.empty()) vary += ", ";
  vary += token;
}

}  // namespace

cors_policy::cors_policy(cors_options options) : options_(std::move(options)) {
  for (const auto& origin : options_.allowed_origins) {
    if (origin == "*") {
      if (options_.allow_credentials) {
        throw std::invalid_argument("CORS: \"*\" cannot be combined with credentials");
      }
      any_origin_ = true;
    } else if (!is_origin(origin)) {
      throw std::invalid_argument("CORS: not an origin (scheme://host[:port]): " + origin);
    }
  }
  allowed_headers_ = join(options_.allowed_headers);
  exposed_headers_ = join(options_.exposed_headers);
}

bool cors_policy::allows(std::string_view origin) const {
  if (any_origin_) return true;
  return std::find(options_.allowed_origins.begin(), options_.allowed_origins.end(), origin) !=
         options_.allowed_origins.end();
}

bool cors_policy::is_preflight(const http_request& request) {
  return request.method == "OPTIONS" && request.header("Origin") &&
         request.header("Access-Control-Request-Method");
}

http_response cors_policy::preflight(const http_request& request, std::string_view allow) const {
  auto response = http_response::empty(204);
  apply(request.header("Origin"), response);
  response.headers["Access-Control-Allow-Methods"] = std::string(allow);
  response.headers["Access-Control-Allow-Headers"] = allowed_headers_;
  response.headers["Access-Control-Max-Age"] = std::to_string(options_.max_age.count());
  response.headers.erase("Access-Control-Expose-Headers");
  add_vary(response, "Access-Control-Request-Method");
  add_vary(response, "Access-Control-Request-Headers");
  return response;
}

void cors_policy::apply(const std::string* origin, http_response& response) const {
  if (!enabled()) return;
  if (!any_origin_) add_vary(response, "Origin");
  if (!origin || !allows(*origin)) return;
  response.headers["Access-Control-Allow-Origin"] = any_origin_ ? "*" : *origin;
  if (options_.allow_credentials) response.headers["Access-Control-Allow-Credentials"] = "true";
  if (!exposed_headers_.empty()) {
    response.headers["Access-Control-Expose-Headers"] = exposed_headers_;
  }
}

}  // namespace realmkit::api

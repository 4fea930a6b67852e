#include "api/auth_guard.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "api/auth/permissions.hpp"
#include "api/error_mapping.hpp"
#include "api/problem.hpp"

namespace realmkit::api {
namespace {

using auth::jwt_error;

// Refusal reasons that are not a jwt_error, as metric labels.
constexpr std::string_view kMissing = "missing";
constexpr std::string_view kMalformedHeader = "malformed_authorization";
constexpr std::string_view kCsrf = "csrf";

bool is_token68_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

// The authority of an origin ("https://crm.example.com:8443" → "crm.example.com:8443").
std::string_view origin_authority(std::string_view origin) {
  const auto scheme = origin.find("://");
  if (scheme == std::string_view::npos) return {};
  return origin.substr(scheme + 3);
}

class authentication_guard {
 public:
  authentication_guard(const auth::token_service& tokens, auth_guard_options options)
      : tokens_(tokens), options_(std::move(options)) {
    if (options_.metrics) {
      auto add = [&](std::string_view reason) {
        refusals_.emplace(
            std::string(reason),
            &options_.metrics->counter_for("realmkit_auth_refusals_total",
                                           "Requests whose credentials were refused, by reason",
                                           {{"reason", std::string(reason)}}));
      };
      add(kMissing);
      add(kMalformedHeader);
      add(kCsrf);
      for (int e = static_cast<int>(jwt_error::too_large);
           e <= static_cast<int>(jwt_error::revocation_unknown); ++e) {
        add(auth::to_string(static_cast<jwt_error>(e)));
      }
    }
  }

  std::optional<http_response> operator()(const route& r, http_request& request) const {
    std::string_view token;
    bool from_cookie = false;
    if (const auto* authorization = request.header("Authorization")) {
      const auto bearer = bearer_token(*authorization);
      if (!bearer) {
        if (r.anonymous) return std::nullopt;
        count(kMalformedHeader);
        return unauthorized_response(request, true,
                                     "the Authorization header must be \"Bearer <token>\"");
      }
      token = *bearer;
    } else if (const auto* cookies = request.header("Cookie")) {
      if (const auto value = cookie_value(*cookies, options_.cookie_name)) {
        token = *value;
        from_cookie = true;
      }
    }
    if (token.empty()) {
      if (r.anonymous) return std::nullopt;
      count(kMissing);
      return unauthorized_response(request, false);
    }

    auto result = tokens_.authenticate(token);
    if (result.unavailable()) {
      // Fail closed, but not with 401: the token may be fine, and a client told to log in again
      // would only hit the same outage. An anonymous route needs no session: served.
      if (r.anonymous) return std::nullopt;
      count(auth::to_string(result.error));
      spdlog::info("request {}: access token not checked ({})", request.request_id, result.detail);
      return to_response(make_problem(problem_kind::unavailable,
                                      "the session store is unavailable; retry shortly"),
                         request.request_id);
    }
    if (!result.ok()) {
      if (r.anonymous) return std::nullopt;
      const auto reason = auth::to_string(result.error);
      count(reason);
      // The reason is for operators only: telling a forger why a token failed helps the forger.
      spdlog::info("request {}: access token refused ({}: {})", request.request_id, reason,
                   result.detail);
      return unauthorized_response(request, true, "the access token is not valid");
    }

    if (from_cookie && !is_safe_method(request.method) && !trusted_cross_site(request)) {
      // A browser attaches the cookie to any request a foreign page makes: a write must show it
      // comes from our own pages.
      if (r.anonymous) return std::nullopt;
      count(kCsrf);
      spdlog::info("request {}: cookie-authenticated {} without a trusted Origin or {}",
                   request.request_id, request.method, options_.csrf_header);
      return to_response(
          make_problem(problem_kind::forbidden, "a cookie-authenticated " + request.method +
                                                    " needs a trusted Origin or the " +
                                                    options_.csrf_header + " header"),
          request.request_id);
    }
    request.principal = std::move(result.who);
    return std::nullopt;
  }

 private:
  bool trusted_cross_site(const http_request& request) const {
    return is_trusted_browser_request(request, options_.trusted_origins, options_.csrf_header);
  }

  void count(std::string_view reason) const {
    if (const auto it = refusals_.find(std::string(reason)); it != refusals_.end()) {
      it->second->inc();
    }
  }

  const auth::token_service& tokens_;
  auth_guard_options options_;
  std::unordered_map<std::string, infra::counter*> refusals_;  // filled once, then read-only
};

}  // namespace

const auth::principal* principal_of(const http_request& request) {
  return std::any_cast<auth::principal>(&request.principal);
}

const auth::principal& require_principal(const http_request& request) {
  if (const auto* p = principal_of(request)) return *p;
  auto problem = make_problem(problem_kind::unauthorized, "a valid access token is required");
  problem.headers.emplace("WWW-Authenticate", "Bearer realm=\"realmkit\"");
  throw problem_error(std::move(problem));
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  auto token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || !std::all_of(token.begin(), token.end(), is_token68_char)) {
    return std::nullopt;
  }
  return token;
}

std::optional<std::string_view> cookie_value(std::string_view cookie_header,
                                             std::string_view name) {
  // "a=1; b=2" (RFC 6265 §4.2.1). The first cookie of the name wins, as in browsers' order.
  while (!cookie_header.empty()) {
    const auto semicolon = cookie_header.find(';');
    auto pair = cookie_header.substr(0, semicolon);
    cookie_header = semicolon == std::string_view::npos ? std::string_view{}
                                                        : cookie_header.substr(semicolon + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) != name) continue;
    auto value = pair.substr(eq + 1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

bool is_trusted_browser_request(const http_request& request,
                                const std::vector<std::string>& trusted_origins,
                                std::string_view csrf_header) {
  return request.header(csrf_header) || is_trusted_origin(request, trusted_origins);
}

bool is_trusted_origin(const http_request& request,
                       const std::vector<std::string>& trusted_origins) {
  const auto* origin = request.header("Origin");
  if (!origin || *origin == "null") return false;
  if (std::find(trusted_origins.begin(), trusted_origins.end(), *origin) != trusted_origins.end()) {
    return true;
  }
  // Same origin: the page was served by this host. A foreign page cannot make its Origin name
  // our host, and under a rebound DNS name the browser holds no cookie of ours.
  const auto* host = request.header("Host");
  const auto authority = origin_authority(*origin);
  return host && !authority.empty() && iequals(authority, *host);
}

bool is_safe_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

http_response unauthorized_response(const http_request& request, bool token_presented,
                                    std::string detail) {
  auto problem = make_problem(problem_kind::unauthorized, std::move(detail));
  // RFC 6750 §3: error="invalid_token" only when a token was presented.
  problem.headers.emplace("WWW-Authenticate",
                          token_presented ? "Bearer realm=\"realmkit\", error=\"invalid_token\""
                                          : "Bearer realm=\"realmkit\"");
  return to_response(std::move(problem), request.request_id);
}

guard make_authentication_guard(const auth::token_service& tokens, auth_guard_options options) {
  auto g = std::make_shared<const authentication_guard>(tokens, std::move(options));
  return [g](const route& r, http_request& request) { return (*g)(r, request); };
}

guard make_permission_guard(const router& routes) {
  auto table = std::make_shared<std::unordered_map<const route*, auth::permission>>();
  for (const auto& r : routes.routes()) {
    if (r.permission.empty()) continue;
    const auto p = auth::permission_from_string(r.permission);
    if (!p) {
      throw std::invalid_argument("route " + r.name + ": unknown permission \"" + r.permission +
                                  "\"");
    }
    if (r.anonymous) {
      throw std::invalid_argument("route " + r.name + " is anonymous but requires " + r.permission);
    }
    table->emplace(&r, *p);
  }
  return [table](const route& r, http_request& request) -> std::optional<http_response> {
    if (r.permission.empty()) return std::nullopt;
    std::optional<auth::permission> needed;
    if (const auto it = table->find(&r); it != table->end()) {
      needed = it->second;
    } else {
      needed = auth::permission_from_string(r.permission);
    }
    const auto* who = principal_of(request);
    if (!who) return unauthorized_response(request, false);
    if (!needed || !auth::has_permission(who->role, *needed)) {
      return to_response(
          make_problem(problem_kind::forbidden, "this requires the permission " + r.permission),
          request.request_id);
    }
    return std::nullopt;
  };
}

}  // namespace realmkit::api

// The guards that decide who is calling and whether they may: authentication (a Bearer access
// token, or the access cookie of a browser session with a CSRF check) and the route's permission.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth/auth_types.hpp"
#include "api/auth/token_service.hpp"
#include "api/http_pipeline.hpp"
#include "api/router.hpp"
#include "infra/metrics.hpp"

namespace realmkit::api {

inline constexpr std::string_view kAccessCookie = "realmkit_access";
inline constexpr std::string_view kRefreshCookie = "realmkit_refresh";
// A header cross-site script cannot add without a CORS preflight, which the allow-list refuses.
inline constexpr std::string_view kCsrfHeader = "X-Requested-With";

struct auth_guard_options {
  std::string cookie_name = std::string(kAccessCookie);
  // Origins trusted to send cookie-authenticated writes (the web UI's; usually the CORS
  // allow-list). A request whose Origin names the server's own Host is trusted too.
  std::vector<std::string> trusted_origins;
  std::string csrf_header = std::string(kCsrfHeader);
  // Refusals are counted here by reason (realmkit_auth_refusals_total) when set.
  infra::metrics_registry* metrics = nullptr;
};

// The principal the authentication guard set, or nullptr (anonymous request).
const auth::principal* principal_of(const http_request& request);
// For handlers of authenticated routes: the principal, or a 401 problem_error.
const auth::principal& require_principal(const http_request& request);

// The token of an Authorization value "Bearer <token>" (scheme case-insensitive, RFC 6750 §2.1),
// or nullopt for another scheme or a malformed value.
std::optional<std::string_view> bearer_token(std::string_view authorization);
// The value of the cookie `name` in a Cookie header, or nullopt.
std::optional<std::string_view> cookie_value(std::string_view cookie_header, std::string_view name);
// True when the request's Origin is on `trusted_origins` or names the request's own Host; false
// without an Origin or for "null".
bool is_trusted_origin(const http_request& request,
                       const std::vector<std::string>& trusted_origins);
// True when a cookie-authenticated request shows it comes from our own pages: it carries the CSRF
// header, or its Origin is on `trusted_origins` or names the request's own Host.
bool is_trusted_browser_request(const http_request& request,
                                const std::vector<std::string>& trusted_origins,
                                std::string_view csrf_header = kCsrfHeader);
// GET, HEAD, OPTIONS and TRACE do not change anything (RFC 9110 §9.2.1): no CSRF check.
bool is_safe_method(std::string_view method);

// Authenticates every request that carries credentials and sets request.principal. A route that
// is not `anonymous` is refused without a valid token: 401 problem with WWW-Authenticate: Bearer.
// An anonymous route is served either way (an invalid token is ignored there). The token comes
// from Authorization: Bearer or, failing that, from the access cookie; a cookie-authenticated
// unsafe request must come from a trusted origin or carry the CSRF header (else 403). When the
// revocation list cannot say whether a token was revoked, a route that is not anonymous answers
// 503 problem (unavailable) with Retry-After. The guard keeps a reference to `tokens`.
guard make_authentication_guard(const auth::token_service& tokens, auth_guard_options options);

// Refuses with 403 a request whose principal lacks the route's `permission`. Throws
// std::invalid_argument when a route of `routes` names an unknown permission or is anonymous with
// a permission (a table error, found at start-up). Routes added later are checked on first use.
guard make_permission_guard(const router& routes);

// The 401 problem every authentication refusal answers with (one answer, whatever the reason).
http_response unauthorized_response(const http_request& request, bool token_presented,
                                    std::string detail = "a valid access token is required");

}  // namespace realmkit::api

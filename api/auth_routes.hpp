// The session endpoints: POST /api/auth/login, /refresh and /logout, and GET /api/auth/me. Thin
// handlers over api/auth's login and token services; the rules live there.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/auth/auth_types.hpp"
#include "api/auth/login_service.hpp"
#include "api/auth/token_service.hpp"
#include "api/auth_guard.hpp"
#include "api/router.hpp"
#include "infra/metrics.hpp"

namespace realmkit::api {

// Records the upgraded password hash a login produced (a change_user_password command). A failure
// is logged and the login succeeds anyway: the old hash still works, the next login tries again.
using rehash_recorder = std::function<void(
    const std::string& user_id, const std::string& password_hash, const http_request& request)>;

struct auth_routes_options {
  // Who a user is now: GET /api/auth/me, and the role and team a refresh puts in the new access
  // token (a user gone or deactivated ends the session). Required.
  auth::profile_lookup profiles;
  rehash_recorder record_rehash;  // may be empty: hashes are then never upgraded
  // Browser sessions: a login or refresh with {"cookie": true} gets the tokens as HttpOnly
  // cookies (realmkit_access on /, realmkit_refresh on /api/auth) instead of in the body.
  bool cookie_secure = true;  // the Secure attribute; off only for plain-HTTP development
  // A refresh or logout by cookie must pass the same CSRF check as other cookie writes.
  std::vector<std::string> trusted_origins;
  infra::metrics_registry* metrics = nullptr;  // realmkit_auth_{logins,refreshes}_total
};

// Adds auth.login, auth.refresh, auth.logout (anonymous, rate-limited by the strict bucket) and
// auth.me (any authenticated user). The services must outlive the router. Throws
// std::invalid_argument without a profile lookup.
void add_auth_routes(router& routes, auth::token_service& tokens, auth::login_service& logins,
                     auth_routes_options options);

}  // namespace realmkit::api

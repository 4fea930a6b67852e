// What the auth building blocks share: the injected clock, and who a request acts for.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/user/user_events.hpp"

namespace realmkit::api::auth {

// Microseconds since the Unix epoch (UTC), like domain::timestamp and infra::timestamp.
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;
// The time source of every auth component; tests pass a fake so nothing ever sleeps.
using clock_fn = std::function<timestamp()>;

// The system clock.
clock_fn system_clock();

// Whom tokens are issued for: the facts an access token carries.
struct subject {
  std::string user_id;
  domain::user_role role = domain::user_role::sales_rep;
  std::optional<std::string> team_id;

  bool operator==(const subject&) const = default;
};

// The authenticated caller of a request, from a verified access token.
struct principal {
  std::string user_id;
  domain::user_role role = domain::user_role::sales_rep;
  std::optional<std::string> team_id;
  std::string token_id;  // the access token's jti, for logs and audit metadata
  timestamp expires_at{};
  // The session (refresh token family) the token belongs to; absent for tokens issued before
  // access tokens named their session.
  std::optional<std::string> session_id;

  bool operator==(const principal&) const = default;
};

// A user as the API shows them to themselves (GET /api/auth/me), and the facts a refresh needs.
struct user_profile {
  std::string user_id;
  std::string email;
  std::string display_name;
  domain::user_role role = domain::user_role::sales_rep;
  std::optional<std::string> team_id;
  bool active = true;

  bool operator==(const user_profile&) const = default;
};

// The user with this id, or nullopt when there is none.
using profile_lookup = std::function<std::optional<user_profile>(std::string_view user_id)>;

}  // namespace realmkit::api::auth

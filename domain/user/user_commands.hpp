// Commands of the user aggregate. The user id is chosen by the caller; password hashes are
// computed at the edge, so no command ever carries a clear-text password.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "domain/user/user_events.hpp"

namespace realmkit::domain {

// With a password hash, registration also records user.password_changed.v1; without one the
// user cannot sign in until a password is set (an invitation flow).
struct register_user {
  user_id user;
  std::string email;
  std::string display_name;
  user_role role = user_role::sales_rep;
  std::optional<team_id> team;
  std::optional<std::string> password_hash;
};

struct rename_user {
  user_id user;
  std::string display_name;
};

struct change_user_email {
  user_id user;
  std::string email;
};

struct change_user_role {
  user_id user;
  user_role role = user_role::sales_rep;
};

// No team: the user leaves their team.
struct change_user_team {
  user_id user;
  std::optional<team_id> team;
};

struct change_user_password {
  user_id user;
  std::string password_hash;
};

struct deactivate_user {
  user_id user;
};

struct reactivate_user {
  user_id user;
};

using user_command =
    std::variant<register_user, rename_user, change_user_email, change_user_role, change_user_team,
                 change_user_password, deactivate_user, reactivate_user>;

}  // namespace realmkit::domain

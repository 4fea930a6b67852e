// Commands of the team aggregate. The user side (user.team_changed.v1) is a separate stream that
// the command layer keeps in step.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "domain/team/team_events.hpp"

namespace realmkit::domain {

// A manager given at creation joins the team as its first member.
struct create_team {
  team_id team;
  std::string name;
  std::optional<user_id> manager;
};

struct rename_team {
  team_id team;
  std::string name;
};

struct add_team_member {
  team_id team;
  user_id user;
};

// Removing the manager also leaves the team without a manager.
struct remove_team_member {
  team_id team;
  user_id user;
};

// Assigning someone who is not a member adds them first; no manager unassigns the current one.
struct assign_team_manager {
  team_id team;
  std::optional<user_id> manager;
};

struct archive_team {
  team_id team;
};

using team_command = std::variant<create_team, rename_team, add_team_member, remove_team_member,
                                  assign_team_manager, archive_team>;

}  // namespace realmkit::domain

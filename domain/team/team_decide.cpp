#include <vector>

#include "domain/team/team_state.hpp"

namespace realmkit::domain {
namespace {

using events = std::vector<team_event>;

std::optional<rejection> require_active(const team_state& state) {
  if (!state.exists) return not_found("team does not exist");
  if (state.archived) return invalid_state("archived", "team is archived");
  return std::nullopt;
}

std::optional<rejection> check_room_for_one_more(const team_state& state, std::string_view field) {
  if (state.members.size() >= kMaxTeamMembers) {
    return invalid(std::string(field),
                   "a team has at most " + std::to_string(kMaxTeamMembers) + " members");
  }
  return std::nullopt;
}

decision<team_event> decide_create(const create_team& c, const team_state& state) {
  if (state.exists) return already_exists("team already exists");
  if (auto r = rules::check_id("id", c.team.value)) return *r;
  if (auto r = rules::check_name("name", c.name)) return *r;
  if (c.manager) {
    if (auto r = rules::check_id("manager_id", c.manager->value)) return *r;
  }
  events out{team_created{c.team, rules::trimmed(c.name)}};
  if (c.manager) {
    out.push_back(team_member_added{c.team, *c.manager});
    out.push_back(team_manager_assigned{c.team, std::nullopt, c.manager});
  }
  return out;
}

decision<team_event> decide_assign_manager(const assign_team_manager& c, const team_state& state) {
  if (auto r = require_active(state)) return *r;
  if (c.manager) {
    if (auto r = rules::check_id("manager_id", c.manager->value)) return *r;
  }
  if (c.manager == state.manager) return events{};
  events out;
  // Assigning a non-member adds them, so a manager is always a member and no second command is
  // needed (the alternative, refusing, only makes every client send two commands).
  if (c.manager && !state.is_member(*c.manager)) {
    if (auto r = check_room_for_one_more(state, "manager_id")) return *r;
    out.push_back(team_member_added{state.id, *c.manager});
  }
  out.push_back(team_manager_assigned{state.id, state.manager, c.manager});
  return out;
}

decision<team_event> decide_remove_member(const remove_team_member& c, const team_state& state) {
  if (auto r = require_active(state)) return *r;
  if (auto r = rules::check_id("user_id", c.user.value)) return *r;
  if (!state.is_member(c.user)) return invalid("user_id", "is not a member of this team");
  events out;
  // The manager is unassigned first, so the invariant holds after each event, not only after both.
  if (state.manager == c.user) {
    out.push_back(team_manager_assigned{state.id, state.manager, std::nullopt});
  }
  out.push_back(team_member_removed{state.id, c.user});
  return out;
}

}  // namespace

decision<team_event> decide(const team_command& command, const team_state& state,
                            const command_context&) {
  return std::visit(
      overloaded{
          [&](const create_team& c) { return decide_create(c, state); },
          [&](const rename_team& c) -> decision<team_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_name("name", c.name)) return *r;
            auto name = rules::trimmed(c.name);
            if (name == state.name) return events{};
            return team_event{team_renamed{state.id, std::move(name)}};
          },
          [&](const add_team_member& c) -> decision<team_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_id("user_id", c.user.value)) return *r;
            if (state.is_member(c.user)) return events{};
            if (auto r = check_room_for_one_more(state, "user_id")) return *r;
            return team_event{team_member_added{state.id, c.user}};
          },
          [&](const remove_team_member& c) { return decide_remove_member(c, state); },
          [&](const assign_team_manager& c) { return decide_assign_manager(c, state); },
          [&](const archive_team&) -> decision<team_event> {
            if (!state.exists) return not_found("team does not exist");
            if (state.archived) return events{};
            return team_event{team_archived{state.id}};
          },
      },
      command);
}

}  // namespace realmkit::domain

#include "domain/team/team_state.hpp"

namespace realmkit::domain {

team_state evolve(team_state state, const team_event& event) {
  std::visit(overloaded{
                 [&](const team_created& e) {
                   state.exists = true;
                   state.id = e.team;
                   state.name = e.name;
                 },
                 [&](const team_renamed& e) { state.name = e.name; },
                 [&](const team_member_added& e) { state.members.insert(e.user); },
                 [&](const team_member_removed& e) {
                   state.members.erase(e.user);
                   if (state.manager == e.user) state.manager.reset();
                 },
                 [&](const team_manager_assigned& e) { state.manager = e.to; },
                 [&](const team_archived&) { state.archived = true; },
             },
             event);
  return state;
}

}  // namespace realmkit::domain

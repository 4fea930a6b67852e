#include "domain/user/user_state.hpp"

namespace realmkit::domain {

user_state evolve(user_state state, const user_event& event) {
  std::visit(overloaded{
                 [&](const user_registered& e) {
                   state.exists = true;
                   state.id = e.user;
                   state.email = e.email;
                   state.display_name = e.display_name;
                   state.role = e.role;
                   state.team = e.team;
                   state.active = true;
                 },
                 [&](const user_renamed& e) { state.display_name = e.display_name; },
                 [&](const user_email_changed& e) { state.email = e.to; },
                 [&](const user_role_changed& e) { state.role = e.to; },
                 [&](const user_team_changed& e) { state.team = e.to; },
                 [&](const user_password_changed& e) { state.password_hash = e.password_hash; },
                 [&](const user_deactivated&) { state.active = false; },
                 [&](const user_reactivated&) { state.active = true; },
             },
             event);
  return state;
}

}  // namespace realmkit::domain

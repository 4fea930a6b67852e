#include "domain/activity/activity_state.hpp"

namespace realmkit::domain {

activity_state evolve(activity_state state, const activity_event& event) {
  std::visit(overloaded{
                 [&](const activity_logged& e) {
                   state.exists = true;
                   state.id = e.activity;
                   state.type = e.type;
                   state.subject = e.subject;
                   state.summary = e.summary;
                   state.body = e.body;
                   state.occurred_at = e.occurred_at;
                   state.duration_minutes = e.duration_minutes;
                   state.owner = e.owner;
                 },
                 [&](const activity_edited& e) {
                   state.summary = e.summary;
                   state.body = e.body;
                   state.occurred_at = e.occurred_at;
                   state.duration_minutes = e.duration_minutes;
                 },
                 [&](const activity_deleted&) { state.deleted = true; },
                 [&](const activity_relinked& e) { state.subject = e.subject; },
             },
             event);
  return state;
}

}  // namespace realmkit::domain

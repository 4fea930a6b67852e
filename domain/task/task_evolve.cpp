#include "domain/task/task_state.hpp"

namespace realmkit::domain {

task_state evolve(task_state state, const task_event& event) {
  std::visit(overloaded{
                 [&](const task_created& e) {
                   state.exists = true;
                   state.id = e.task;
                   state.title = e.title;
                   state.description = e.description;
                   state.assignee = e.assignee;
                   state.due_at = e.due_at;
                   state.link = e.link;
                   state.priority = e.priority;
                 },
                 [&](const task_edited& e) {
                   state.title = e.title;
                   state.description = e.description;
                   state.priority = e.priority;
                 },
                 [&](const task_reassigned& e) { state.assignee = e.to_assignee; },
                 [&](const task_due_changed& e) { state.due_at = e.to; },
                 [&](const task_completed& e) {
                   state.done = true;
                   state.completed_at = e.at;
                 },
                 [&](const task_reopened&) {
                   state.done = false;
                   state.completed_at.reset();
                 },
                 [&](const task_deleted&) { state.deleted = true; },
                 [&](const task_relinked& e) { state.link = e.link; },
                 [&](const task_reminder_changed& e) { state.reminder_minutes = e.minutes_before; },
                 [&](const task_recurrence_changed& e) {
                   state.recurrence = e.recurrence;
                   state.series = e.series;
                   state.occurrence = e.occurrence;
                 },
                 [&](const task_reminded& e) {
                   // An overdue reminder also ends the advance one's chance for that due time.
                   state.reminded_due = e.due_at;
                   if (e.kind == reminder_kind::overdue) state.overdue_due = e.due_at;
                 },
             },
             event);
  return state;
}

}  // namespace realmkit::domain

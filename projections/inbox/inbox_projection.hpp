// What concerns one user: their open tasks by due time, and a feed of notifications — a record
// given to them by someone else (deal, lead, contact, company, task), a task of theirs falling
// due, their deal won or lost by someone else, an activity logged on their record by someone
// else.
//
// Relations:
//   rm_inbox_tasks         (task_id, assignee_id, title, description, priority, due_at_us,
//                           due_sort, link_kind, link_id, status, created_us, deleted) —
//                           due_sort is the due time, or the largest integer when none, so
//                           tasks without a due time sort last on both backends
//   rm_inbox_notifications (user_id, seq, at_us, kind, subject_kind, subject_id, actor_id,
//                           detail) — seq = 4 × the global position of the event + a small
//                           number, unique; a task's "task.due" is written when the due time is
//                           set, with at_us = the due time, and shows once that time has come
//                           (moved, or withdrawn, when the task changes before it)
//   rm_inbox_subjects      (kind, id, title_prefix, title, owner_id) — the current title and
//                           owner of every record a notification or task link may name (a
//                           contact's title_prefix is its first name)
//   rm_inbox_users         (user_id, team_id, display_name)
// Every write is a statement applied in event order; what a notification needs of a record
// (its owner) is read by the statement itself (INSERT ... SELECT), so the writer keeps no cache.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace realmkit::projections::inbox {

inline constexpr std::string_view kProjectionName = "inbox";

class inbox_projection final : public projection {
 public:
  std::string_view name() const override { return kProjectionName; }
  int version() const override { return 1; }
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;
};

}  // namespace realmkit::projections::inbox

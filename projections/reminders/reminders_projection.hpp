// The reminders every open task still owes (domain::owed_reminders), by when they fire: what the
// reminder scheduler (app/reminder_scheduler.hpp) reads to know what is due now and when to wake
// next. A reminder stops being owed when its task.reminded event is applied, or the task is done,
// deleted or due at another time; so the schedule survives restarts, a rebuild reproduces it
// from the log, and no reminder is owed twice.
//
// Relations:
//   rm_task_reminders (task_id, kind, fire_at_us, due_at_us, assignee_id) — one row per owed
//                     reminder: kind "due_soon" or "overdue", times in microseconds since the epoch
//   rm_reminder_tasks (task_id, doc) — every task's folded state, to fold on from
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infra/sql/sql_database.hpp"
#include "projections/projection.hpp"

namespace realmkit::projections::reminders {

inline constexpr std::string_view kProjectionName = "reminders";

class reminders_projection final : public projection {
 public:
  std::string_view name() const override { return kProjectionName; }
  int version() const override { return 1; }
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;
};

struct due_reminder {
  std::string task_id;
  std::string kind;  // "due_soon" or "overdue"
  std::int64_t fire_at_us = 0;
  std::int64_t due_at_us = 0;
  std::string assignee_id;
};

// The reminders whose time has come by `now_us`, earliest first, at most `limit`.
std::vector<due_reminder> due_reminders(infra::sql::session& db, std::int64_t now_us,
                                        std::size_t limit);

// When the next reminder fires (it may be in the past), if any is owed.
std::optional<std::int64_t> next_fire_time(infra::sql::session& db);

}  // namespace realmkit::projections::reminders

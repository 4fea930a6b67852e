// The activity timeline of every contact, company, deal and lead: each event of its own stream
// (who, when, and the event's data, which names from and to where the event has them), the
// activities logged about it and the tasks linked to it, newest first.
//
// Relations:
//   rm_timeline (entity_kind, entity_id, position, at_us, entry, type, actor_id, item_id,
//                owner_id, summary, body, status, due_at_us, duration_minutes, priority, data,
//                version)
//     entry 'event':    one per event of the entity's stream; type is the event's kind
//                       ("deal.stage_moved"), data its JSON, version the stream version.
//     entry 'activity': one per activity about the entity, kept up to date (summary, body, at =
//                       when it occurred, duration); type is the activity type; gone when deleted.
//     entry 'task':     one per task linked to the entity (title as summary, description as
//                       body, status open|done, due, priority); at = when it was created.
//     position is the global position of the entry's first event: unique within a timeline, and
//     the tie-break of entries at the same time. owner_id (activity owner, task assignee) decides
//     who sees an item; an event is seen by whoever sees the entity.
//   rm_timeline_users (user_id, team_id, display_name)
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace realmkit::projections::timeline {

inline constexpr std::string_view kProjectionName = "timeline";

class timeline_projection final : public projection {
 public:
  std::string_view name() const override { return kProjectionName; }
  int version() const override { return 1; }
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;
};

}  // namespace realmkit::projections::timeline

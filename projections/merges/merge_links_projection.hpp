// What a contact merge still has to move: every activity, task and deal that names a contact, and
// every contact merged into another. A reference to a merged contact is a relink still owed; the
// merge relinker (app/merge_relinker.hpp) reads them with pending_relinks and issues the relink
// commands, whose events then remove them here. So the work left is itself a read model: it
// survives restarts, a rebuild reproduces it from the log, and a relink is never owed twice.
//
// Relations:
//   rm_contact_refs    (contact_id, item_kind, item_id) — item_kind "activity" (its subject),
//                      "task" (its link) or "deal" (one of its contacts); deleted and archived
//                      items too, so their history points onwards as well
//   rm_contact_merges  (contact_id, survivor_id, position, event_id, correlation_id, actor_id) —
//                      every contact merged into another: the live survivor it now stands for
//                      (the end of a chain of merges), and the merge event the relinks follow from
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/sql/sql_database.hpp"
#include "projections/projection.hpp"

namespace realmkit::projections::merges {

inline constexpr std::string_view kProjectionName = "merge_links";

class merge_links_projection final : public projection {
 public:
  std::string_view name() const override { return kProjectionName; }
  int version() const override { return 1; }
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;
};

// One reference still naming a merged contact, and the merge that moves it on.
struct pending_relink {
  std::string item_kind;  // "activity", "task" or "deal"
  std::string item_id;
  std::string from_contact;  // the merged contact it names
  std::string to_contact;    // the survivor it must name instead
  std::string merge_event_id;
  std::string correlation_id;
  std::string actor_id;  // who merged
  std::int64_t merge_position = 0;
};

// The oldest merges' owed relinks first, at most `limit`.
std::vector<pending_relink> pending_relinks(infra::sql::session& db, std::size_t limit);

}  // namespace realmkit::projections::merges

#include "projections/analytics/analytics_projection.hpp"

#include "infra/event_codec.hpp"
#include "projections/analytics/analytics_schema.hpp"
#include "projections/analytics/fact_writer.hpp"

namespace realmkit::projections::analytics {

namespace {

// The events the facts are made of, by kind (any schema version: the codec upcasts).
constexpr std::string_view kHandled[] = {
    "deal.created",
    "deal.value_changed",
    "deal.stage_moved",
    "deal.owner_assigned",
    "deal.close_date_changed",
    "deal.won",
    "deal.lost",
    "deal.reopened",
    "deal.archived",
    "deal.restored",
    "lead.created",
    "lead.owner_assigned",
    "lead.contacted",
    "lead.qualified",
    "lead.disqualified",
    "lead.reopened",
    "lead.converted",
    "activity.logged",
    "activity.edited",
    "activity.deleted",
    "activity.relinked",
    "pipeline.created",
    "pipeline.stage_added",
    "pipeline.stage_renamed",
    "pipeline.stage_probability_changed",
    "pipeline.stages_reordered",
    "pipeline.stage_removed",
    "user.registered",
    "user.team_changed",
};

}  // namespace

std::string_view analytics_projection::name() const {
  return kProjectionName;
}

// 1: the first facts and analytics.
int analytics_projection::version() const {
  return 1;
}

std::vector<std::string> analytics_projection::relations() const {
  return all_relations();
}

void analytics_projection::create(infra::sql::session& db, const relation_names& names) const {
  create_relations(db, [&](std::string_view r) { return names(r); });
}

void analytics_projection::drop(infra::sql::session& db, const relation_names& names) const {
  drop_relations(db, [&](std::string_view r) { return names(r); });
}

bool analytics_projection::handles(std::string_view event_type) const {
  const auto kind = infra::event_kind(event_type);
  if (kind.empty()) return false;
  for (const auto& h : kHandled) {
    if (h == kind) return true;
  }
  return false;
}

std::unique_ptr<projection_writer> analytics_projection::open(const relation_names& names) const {
  return std::make_unique<fact_writer>(names);
}

std::shared_ptr<const projection> make_analytics_projection() {
  return std::make_shared<analytics_projection>();
}

}  // namespace realmkit::projections::analytics

#include "projections/records/records_projection.hpp"

#include "domain/activity/activity_state.hpp"
#include "domain/company/company_state.hpp"
#include "domain/contact/contact_state.hpp"
#include "domain/deal/deal_state.hpp"
#include "domain/lead/lead_state.hpp"
#include "domain/pipeline/pipeline_state.hpp"
#include "domain/task/task_state.hpp"
#include "domain/team/team_state.hpp"
#include "domain/user/user_state.hpp"

namespace realmkit::projections::records {

std::vector<std::string> records_projection::relations() const {
  std::vector<std::string> out;
  for (const auto& r : record_relations()) out.emplace_back(r.name);
  out.emplace_back(kCredentials);
  return out;
}

std::vector<std::string> records_projection::private_relations() const {
  return {std::string(kCredentials)};
}

void records_projection::create(infra::sql::session& db, const relation_names& names) const {
  create_relations(db, names);
}

bool records_projection::handles(std::string_view event_type) const {
  // Event types read "<aggregate>.<what happened>.v<N>": every event of the nine aggregates.
  const auto aggregate = event_type.substr(0, event_type.find('.'));
  for (const auto category :
       {domain::user_aggregate::kCategory, domain::team_aggregate::kCategory,
        domain::company_aggregate::kCategory, domain::contact_aggregate::kCategory,
        domain::lead_aggregate::kCategory, domain::pipeline_aggregate::kCategory,
        domain::deal_aggregate::kCategory, domain::activity_aggregate::kCategory,
        domain::task_aggregate::kCategory}) {
    if (aggregate == category) return true;
  }
  return false;
}

std::unique_ptr<projection_writer> records_projection::open(const relation_names& names) const {
  return open_records_writer(names, options_);
}

}  // namespace realmkit::projections::records

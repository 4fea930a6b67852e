#include "api/crm/crm_routes.hpp"

#include "api/crm/route_groups.hpp"

namespace realmkit::api::crm {

void add_crm_routes(router& routes, crm_services& services) {
  add_user_routes(routes, services);
  add_team_routes(routes, services);
  add_company_routes(routes, services);
  add_contact_routes(routes, services);
  add_lead_routes(routes, services);
  add_pipeline_routes(routes, services);
  add_deal_routes(routes, services);
  add_activity_routes(routes, services);
  add_task_routes(routes, services);
  add_board_routes(routes, services);
  add_search_routes(routes, services);
  add_timeline_routes(routes, services);
  add_inbox_routes(routes, services);
  add_analytics_routes(routes, services);
  add_audit_routes(routes, services);
  add_privacy_routes(routes, services);
  add_duplicate_routes(routes, services);
  add_next_step_routes(routes, services);
  add_lead_scoring_routes(routes, services);
  add_webhook_routes(routes, services);
  add_inbound_routes(routes, services);
}

}  // namespace realmkit::api::crm

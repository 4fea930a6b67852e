// The CRM route groups, one file each; add_crm_routes adds them all. Internal to api/crm.
#pragma once

#include "api/crm/crm_routes.hpp"
#include "api/crm/route_support.hpp"
#include "domain/contact/contact_commands.hpp"

namespace realmkit::api::crm {

void add_user_routes(router& routes, crm_services& services);
void add_team_routes(router& routes, crm_services& services);
void add_company_routes(router& routes, crm_services& services);
void add_contact_routes(router& routes, crm_services& services);
void add_lead_routes(router& routes, crm_services& services);
void add_pipeline_routes(router& routes, crm_services& services);
void add_deal_routes(router& routes, crm_services& services);
void add_activity_routes(router& routes, crm_services& services);
void add_task_routes(router& routes, crm_services& services);
void add_board_routes(router& routes, crm_services& services);
void add_search_routes(router& routes, crm_services& services);
void add_timeline_routes(router& routes, crm_services& services);
void add_inbox_routes(router& routes, crm_services& services);
void add_analytics_routes(router& routes, crm_services& services);
void add_audit_routes(router& routes, crm_services& services);
void add_privacy_routes(router& routes, crm_services& services);
void add_duplicate_routes(router& routes, crm_services& services);
void add_next_step_routes(router& routes, crm_services& services);
void add_lead_scoring_routes(router& routes, crm_services& services);
void add_webhook_routes(router& routes, crm_services& services);
void add_inbound_routes(router& routes, crm_services& services);

// POST /api/contacts without "force": answers 409 (possible-duplicate) with the contacts the
// caller sees that look like `contact`, from the duplicates read model (duplicate_routes.cpp).
void check_new_contact(const request_scope& scope, const domain::create_contact& contact);

}  // namespace realmkit::api::crm

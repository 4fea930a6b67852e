#include "domain/lead/lead_state.hpp"

namespace realmkit::domain {

lead_state evolve(lead_state state, const lead_event& event) {
  std::visit(overloaded{
                 [&](const lead_created& e) {
                   state.exists = true;
                   state.id = e.lead;
                   state.name = e.name;
                   state.email = e.email;
                   state.phone = e.phone;
                   state.company_name = e.company_name;
                   state.source = e.source;
                   state.owner = e.owner;
                   state.status = lead_status::fresh;
                 },
                 [&](const lead_updated& e) {
                   if (e.name) state.name = *e.name;
                   if (e.email) state.email = *e.email;
                   if (e.phone) state.phone = *e.phone;
                   if (e.company_name) state.company_name = *e.company_name;
                   if (e.source) state.source = *e.source;
                 },
                 [&](const lead_owner_assigned& e) { state.owner = e.to_owner; },
                 [&](const lead_contacted&) { state.status = lead_status::contacted; },
                 [&](const lead_qualified&) { state.status = lead_status::qualified; },
                 [&](const lead_disqualified& e) {
                   state.status = lead_status::disqualified;
                   state.disqualified_reason = e.reason;
                 },
                 [&](const lead_reopened&) {
                   state.status = lead_status::contacted;
                   state.disqualified_reason.clear();
                 },
                 [&](const lead_scored& e) {
                   state.score = e.score;
                   state.score_reason = e.reason;
                   state.score_model = e.model;
                 },
                 [&](const lead_erased&) {
                   state.erased = true;
                   state.name.clear();
                   state.email.clear();
                   state.phone.clear();
                 },
                 [&](const lead_converted& e) {
                   state.status = lead_status::converted;
                   state.converted_contact = e.contact;
                   state.converted_company = e.company;
                   state.converted_deal = e.deal;
                   state.converted_at = e.at;
                 },
             },
             event);
  return state;
}

}  // namespace realmkit::domain

#include "domain/deal/deal_state.hpp"

namespace realmkit::domain {

deal_state evolve(deal_state state, const deal_event& event) {
  std::visit(overloaded{
                 [&](const deal_created& e) {
                   state.exists = true;
                   state.id = e.deal;
                   state.pipeline = e.pipeline;
                   state.stage = e.stage;
                   state.stage_entered_at = e.at;
                   state.title = e.title;
                   state.value = e.value;
                   state.owner = e.owner;
                   state.company = e.company;
                   state.contacts = {e.contacts.begin(), e.contacts.end()};
                   state.expected_close_date = e.expected_close_date;
                   state.status = deal_status::open;
                   state.created_at = e.at;
                 },
                 [&](const deal_renamed& e) { state.title = e.title; },
                 [&](const deal_value_changed& e) { state.value = e.to; },
                 [&](const deal_stage_moved& e) {
                   state.pipeline = e.pipeline;
                   state.stage = e.to_stage;
                   state.stage_entered_at = e.at;
                 },
                 [&](const deal_owner_assigned& e) { state.owner = e.to_owner; },
                 [&](const deal_company_linked& e) { state.company = e.company; },
                 [&](const deal_company_unlinked& e) {
                   if (state.company == e.company) state.company.reset();
                 },
                 [&](const deal_contact_linked& e) { state.contacts.insert(e.contact); },
                 [&](const deal_contact_unlinked& e) { state.contacts.erase(e.contact); },
                 [&](const deal_contact_relinked& e) {
                   state.contacts.erase(e.from);
                   state.contacts.insert(e.contact);
                 },
                 [&](const deal_close_date_changed& e) { state.expected_close_date = e.to; },
                 [&](const deal_won& e) {
                   state.status = deal_status::won;
                   state.lost_reason.clear();
                   state.closed_at = e.at;
                 },
                 [&](const deal_lost& e) {
                   state.status = deal_status::lost;
                   state.lost_reason = e.reason;
                   state.closed_at = e.at;
                 },
                 [&](const deal_reopened& e) {
                   state.status = deal_status::open;
                   state.lost_reason.clear();
                   state.closed_at.reset();
                   state.stage = e.stage;
                   state.stage_entered_at = e.at;
                 },
                 [&](const deal_archived&) { state.archived = true; },
                 [&](const deal_restored&) { state.archived = false; },
             },
             event);
  return state;
}

}  // namespace realmkit::domain

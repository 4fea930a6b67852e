#include <algorithm>

#include "domain/company/company_state.hpp"

namespace realmkit::domain {

company_state evolve(company_state state, const company_event& event) {
  std::visit(overloaded{
                 [&](const company_created& e) {
                   state.exists = true;
                   state.id = e.company;
                   state.name = e.name;
                   state.domain = e.domain;
                   state.industry = e.industry;
                   state.size = e.size;
                   state.phone = e.phone;
                   state.address = e.address;
                   state.owner = e.owner;
                   state.tags = e.tags;
                 },
                 [&](const company_updated& e) {
                   if (e.name) state.name = *e.name;
                   if (e.domain) state.domain = *e.domain;
                   if (e.industry) state.industry = *e.industry;
                   if (e.size) state.size = *e.size;
                   if (e.phone) state.phone = *e.phone;
                   if (e.address) state.address = *e.address;
                 },
                 [&](const company_owner_assigned& e) { state.owner = e.to_owner; },
                 [&](const company_tagged& e) {
                   for (const auto& tag : e.tags) {
                     if (std::find(state.tags.begin(), state.tags.end(), tag) == state.tags.end()) {
                       state.tags.push_back(tag);
                     }
                   }
                 },
                 [&](const company_untagged& e) {
                   std::erase_if(state.tags, [&](const std::string& tag) {
                     return std::find(e.tags.begin(), e.tags.end(), tag) != e.tags.end();
                   });
                 },
                 [&](const company_archived&) { state.archived = true; },
                 [&](const company_restored&) { state.archived = false; },
             },
             event);
  return state;
}

}  // namespace realmkit::domain

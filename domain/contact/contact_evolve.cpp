#include <algorithm>
#include <cctype>

#include "domain/contact/contact_state.hpp"

namespace realmkit::domain {
namespace {

void add_email(contact_state& state, const contact_email& email) {
  if (email.primary) {
    for (auto& e : state.emails) e.primary = false;
  }
  auto it = std::find_if(state.emails.begin(), state.emails.end(),
                         [&](const contact_email& e) { return e.address == email.address; });
  if (it == state.emails.end()) {
    state.emails.push_back(email);
  } else {
    it->primary = it->primary || email.primary;
  }
}

void add_phone(contact_state& state, const contact_phone& phone) {
  if (!state.find_phone(phone.number)) state.phones.push_back(phone);
}

void add_tags(contact_state& state, const std::vector<std::string>& tags) {
  for (const auto& tag : tags) {
    if (std::find(state.tags.begin(), state.tags.end(), tag) == state.tags.end()) {
      state.tags.push_back(tag);
    }
  }
}

}  // namespace

std::string phone_key(std::string_view number) {
  std::string key;
  for (const char c : number) {
    if (std::isdigit(static_cast<unsigned char>(c))) key.push_back(c);
  }
  return key;
}

const contact_email* contact_state::primary_email() const {
  auto it =
      std::find_if(emails.begin(), emails.end(), [](const contact_email& e) { return e.primary; });
  return it == emails.end() ? nullptr : &*it;
}

const contact_email* contact_state::find_email(std::string_view address) const {
  const std::string key = rules::normalized_email(address);
  auto it = std::find_if(emails.begin(), emails.end(),
                         [&](const contact_email& e) { return e.address == key; });
  return it == emails.end() ? nullptr : &*it;
}

const contact_phone* contact_state::find_phone(std::string_view number) const {
  const std::string key = phone_key(number);
  auto it = std::find_if(phones.begin(), phones.end(),
                         [&](const contact_phone& p) { return phone_key(p.number) == key; });
  return it == phones.end() ? nullptr : &*it;
}

const consent_record& contact_state::consent(consent_channel channel) const {
  return consents.at(static_cast<std::size_t>(channel));
}

consent_record& contact_state::consent(consent_channel channel) {
  return consents.at(static_cast<std::size_t>(channel));
}

contact_state evolve(contact_state state, const contact_event& event) {
  std::visit(overloaded{
                 [&](const contact_created& e) {
                   state.exists = true;
                   state.id = e.contact;
                   state.first_name = e.first_name;
                   state.last_name = e.last_name;
                   state.emails = e.emails;
                   state.phones = e.phones;
                   state.company = e.company;
                   state.title = e.title;
                   state.owner = e.owner;
                   state.tags = e.tags;
                 },
                 [&](const contact_updated& e) {
                   if (e.first_name) state.first_name = *e.first_name;
                   if (e.last_name) state.last_name = *e.last_name;
                   if (e.title) state.title = *e.title;
                 },
                 [&](const contact_company_changed& e) { state.company = e.to; },
                 [&](const contact_email_added& e) { add_email(state, e.email); },
                 [&](const contact_email_removed& e) {
                   std::erase_if(state.emails,
                                 [&](const contact_email& m) { return m.address == e.address; });
                 },
                 [&](const contact_primary_email_changed& e) {
                   for (auto& m : state.emails) m.primary = m.address == e.to;
                 },
                 [&](const contact_phone_added& e) { add_phone(state, e.phone); },
                 [&](const contact_phone_removed& e) {
                   const auto key = phone_key(e.number);
                   std::erase_if(state.phones, [&](const contact_phone& p) {
                     return phone_key(p.number) == key;
                   });
                 },
                 [&](const contact_owner_assigned& e) { state.owner = e.to_owner; },
                 [&](const contact_tagged& e) { add_tags(state, e.tags); },
                 [&](const contact_untagged& e) {
                   std::erase_if(state.tags, [&](const std::string& tag) {
                     return std::find(e.tags.begin(), e.tags.end(), tag) != e.tags.end();
                   });
                 },
                 [&](const contact_consent_given& e) {
                   state.consent(e.channel) = {true, e.at, e.source};
                 },
                 [&](const contact_consent_withdrawn& e) {
                   state.consent(e.channel) = {false, e.at, e.source};
                 },
                 [&](const contact_archived&) { state.archived = true; },
                 [&](const contact_restored&) { state.archived = false; },
                 [&](const contact_merged& e) {
                   state.merged_from.insert(state.merged_from.end(), e.duplicates.begin(),
                                            e.duplicates.end());
                   for (const auto& m : e.emails) add_email(state, m);
                   for (const auto& p : e.phones) add_phone(state, p);
                   add_tags(state, e.tags);
                 },
                 [&](const contact_merged_into& e) { state.merged_into = e.survivor; },
                 [&](const contact_erased&) {
                   state.erased = true;
                   state.first_name.clear();
                   state.last_name.clear();
                   state.title.clear();
                   state.emails.clear();
                   state.phones.clear();
                   for (auto& consent : state.consents) consent.source.clear();
                 },
             },
             event);
  return state;
}

}  // namespace realmkit::domain

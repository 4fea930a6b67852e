#include <algorithm>

#include "domain/common/erasure.hpp"
#include "domain/common/tags.hpp"
#include "domain/contact/contact_state.hpp"

namespace realmkit::domain {
namespace {

using events = std::vector<contact_event>;

template <class T>
bool contains(const std::vector<T>& values, const T& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Empty is allowed (the field is unknown); otherwise one line without control characters.
std::optional<rejection> check_line(std::string_view field, std::string_view value,
                                    std::size_t max_length = rules::kMaxNameLength) {
  if (rules::trimmed(value).empty()) return std::nullopt;
  return rules::check_name(field, value, max_length);
}

std::optional<rejection> check_company(const std::optional<company_id>& company) {
  if (company) return rules::check_id("company_id", company->value);
  return std::nullopt;
}

std::optional<rejection> check_label(std::string_view field, phone_label label) {
  if (to_string(label).empty()) {
    return invalid(std::string(field), "must be one of mobile, work, home, fax, other");
  }
  return std::nullopt;
}

std::string too_many(std::size_t limit, std::string_view what) {
  return "a contact has at most " + std::to_string(limit) + " " + std::string(what);
}

// Every command needs the contact; a merged contact refuses all of them.
std::optional<rejection> require_live(const contact_state& state) {
  if (!state.exists) return not_found("contact does not exist");
  if (state.erased) return invalid_state("erased", "contact was erased");
  if (state.merged_into) {
    return invalid_state("merged_into", "contact was merged into " + state.merged_into->value);
  }
  return std::nullopt;
}

std::optional<rejection> require_active(const contact_state& state) {
  if (auto r = require_live(state)) return r;
  if (state.archived) return invalid_state("archived", "contact is archived; restore it first");
  return std::nullopt;
}

// The addresses of a create, normalized, with exactly one primary.
std::optional<rejection> normalize_emails(const std::vector<contact_email>& input,
                                          std::vector<contact_email>& out) {
  if (input.size() > kMaxContactEmails) {
    return invalid("emails", too_many(kMaxContactEmails, "e-mail addresses"));
  }
  bool has_primary = false;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::string field = "emails/" + std::to_string(i);
    if (auto r = rules::check_email(field + ".address", rules::trimmed(input[i].address))) return r;
    std::string address = rules::normalized_email(input[i].address);
    if (std::any_of(out.begin(), out.end(),
                    [&](const contact_email& e) { return e.address == address; })) {
      return invalid(field + ".address", "duplicate e-mail address");
    }
    if (input[i].primary && has_primary) {
      return invalid(field + ".primary", "only one e-mail address can be primary");
    }
    has_primary = has_primary || input[i].primary;
    out.push_back({std::move(address), input[i].primary});
  }
  if (!has_primary && !out.empty()) out.front().primary = true;
  return std::nullopt;
}

std::optional<rejection> normalize_phones(const std::vector<contact_phone>& input,
                                          std::vector<contact_phone>& out) {
  if (input.size() > kMaxContactPhones) {
    return invalid("phones", too_many(kMaxContactPhones, "phone numbers"));
  }
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::string field = "phones/" + std::to_string(i);
    std::string number = rules::trimmed(input[i].number);
    if (auto r = rules::check_phone(field + ".number", number)) return r;
    if (auto r = check_label(field + ".label", input[i].label)) return r;
    if (std::any_of(out.begin(), out.end(), [&](const contact_phone& p) {
          return phone_key(p.number) == phone_key(number);
        })) {
      return invalid(field + ".number", "duplicate phone number");
    }
    out.push_back({std::move(number), input[i].label});
  }
  return std::nullopt;
}

decision<contact_event> decide_create(const create_contact& c, const contact_state& state,
                                      const command_context& ctx) {
  if (state.exists) return already_exists("contact already exists");
  if (auto r = rules::check_id("id", c.contact.value)) return *r;
  if (auto r = check_line("first_name", c.first_name)) return *r;
  if (auto r = rules::check_name("last_name", c.last_name)) return *r;
  std::vector<contact_email> emails;
  if (auto r = normalize_emails(c.emails, emails)) return *r;
  std::vector<contact_phone> phones;
  if (auto r = normalize_phones(c.phones, phones)) return *r;
  if (auto r = check_company(c.company)) return *r;
  if (auto r = check_line("title", c.title)) return *r;
  const user_id owner = c.owner.value_or(ctx.actor);
  if (auto r = rules::check_id("owner_id", owner.value)) return *r;
  std::vector<std::string> tags;
  if (auto r = rules::tags_to_add("tags", {}, c.tags, tags)) return *r;
  return contact_event{contact_created{
      c.contact, rules::trimmed(c.first_name), rules::trimmed(c.last_name), std::move(emails),
      std::move(phones), c.company, rules::trimmed(c.title), owner, std::move(tags)}};
}

decision<contact_event> decide_update(const update_contact& c, const contact_state& state) {
  if (auto r = require_active(state)) return *r;
  if (c.first_name) {
    if (auto r = check_line("first_name", *c.first_name)) return *r;
  }
  if (c.last_name) {
    if (auto r = rules::check_name("last_name", *c.last_name)) return *r;
  }
  if (c.title) {
    if (auto r = check_line("title", *c.title)) return *r;
  }
  auto changed = [](const std::optional<std::string>& requested,
                    const std::string& current) -> std::optional<std::string> {
    if (!requested || rules::trimmed(*requested) == current) return std::nullopt;
    return rules::trimmed(*requested);
  };
  contact_updated e{state.id, changed(c.first_name, state.first_name),
                    changed(c.last_name, state.last_name), changed(c.title, state.title)};
  if (!e.first_name && !e.last_name && !e.title) return events{};
  return contact_event{std::move(e)};
}

decision<contact_event> decide_add_email(const add_contact_email& c, const contact_state& state) {
  if (auto r = require_active(state)) return *r;
  if (auto r = rules::check_email("address", rules::trimmed(c.address))) return *r;
  std::string address = rules::normalized_email(c.address);
  const auto* primary = state.primary_email();
  if (const auto* known = state.find_email(address)) {
    if (!c.make_primary || known->primary) return events{};
    return contact_event{
        contact_primary_email_changed{state.id, primary ? primary->address : "", address}};
  }
  if (state.emails.size() >= kMaxContactEmails) {
    return invalid("address", too_many(kMaxContactEmails, "e-mail addresses"));
  }
  const bool make_primary = c.make_primary || state.emails.empty();
  return contact_event{contact_email_added{state.id, {std::move(address), make_primary}}};
}

decision<contact_event> decide_remove_email(const remove_contact_email& c,
                                            const contact_state& state) {
  if (auto r = require_active(state)) return *r;
  const auto* known = state.find_email(c.address);
  if (!known) return invalid("address", "is not an e-mail address of this contact");
  events out;
  if (known->primary && state.emails.size() > 1) {
    // The next address takes over first, so there is a primary after every event.
    const auto next = std::find_if(state.emails.begin(), state.emails.end(),
                                   [](const contact_email& e) { return !e.primary; });
    out.push_back(contact_primary_email_changed{state.id, known->address, next->address});
  }
  out.push_back(contact_email_removed{state.id, known->address});
  return out;
}

decision<contact_event> decide_add_phone(const add_contact_phone& c, const contact_state& state) {
  if (auto r = require_active(state)) return *r;
  std::string number = rules::trimmed(c.number);
  if (auto r = rules::check_phone("number", number)) return *r;
  if (auto r = check_label("label", c.label)) return *r;
  if (const auto* known = state.find_phone(number)) {
    if (known->label == c.label) return events{};
    return invalid("number", "is already on this contact as " +
                                 std::string(to_string(known->label)) + "; remove it first");
  }
  if (state.phones.size() >= kMaxContactPhones) {
    return invalid("number", too_many(kMaxContactPhones, "phone numbers"));
  }
  return contact_event{contact_phone_added{state.id, {std::move(number), c.label}}};
}

template <class Command>
decision<contact_event> decide_consent(const Command& c, const contact_state& state, bool grant,
                                       const command_context& ctx) {
  if (to_string(c.channel).empty()) {
    return invalid("channel", "must be one of email_marketing, sms_marketing, phone_calls");
  }
  const timestamp at = c.at.value_or(ctx.now);
  if (at > ctx.now) return invalid("at", "must not be in the future");
  const consent_record& current = state.consent(c.channel);
  // Consent history is read in order: a decision older than the recorded one would be shadowed.
  if (current.at && at < *current.at) {
    return invalid("at", "is before the last recorded consent decision on this channel");
  }
  if (auto r = check_line("source", c.source, kMaxConsentSourceLength)) return *r;
  if (current.granted == grant) return events{};
  if (grant) {
    return contact_event{contact_consent_given{state.id, c.channel, at, rules::trimmed(c.source)}};
  }
  return contact_event{
      contact_consent_withdrawn{state.id, c.channel, at, rules::trimmed(c.source)}};
}

}  // namespace

decision<contact_event> decide(const contact_command& command, const contact_state& state,
                               const command_context& ctx) {
  return std::visit(
      overloaded{
          [&](const create_contact& c) { return decide_create(c, state, ctx); },
          [&](const update_contact& c) { return decide_update(c, state); },
          [&](const change_contact_company& c) -> decision<contact_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = check_company(c.company)) return *r;
            if (c.company == state.company) return events{};
            return contact_event{contact_company_changed{state.id, state.company, c.company}};
          },
          [&](const add_contact_email& c) { return decide_add_email(c, state); },
          [&](const remove_contact_email& c) { return decide_remove_email(c, state); },
          [&](const set_primary_contact_email& c) -> decision<contact_event> {
            if (auto r = require_active(state)) return *r;
            const auto* known = state.find_email(c.address);
            if (!known) return invalid("address", "is not an e-mail address of this contact");
            if (known->primary) return events{};
            const auto* primary = state.primary_email();
            return contact_event{contact_primary_email_changed{
                state.id, primary ? primary->address : "", known->address}};
          },
          [&](const add_contact_phone& c) { return decide_add_phone(c, state); },
          [&](const remove_contact_phone& c) -> decision<contact_event> {
            if (auto r = require_active(state)) return *r;
            const auto* known = state.find_phone(c.number);
            if (!known) return invalid("number", "is not a phone number of this contact");
            return contact_event{contact_phone_removed{state.id, known->number}};
          },
          [&](const assign_contact_owner& c) -> decision<contact_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_id("owner_id", c.owner.value)) return *r;
            if (c.owner == state.owner) return events{};
            return contact_event{contact_owner_assigned{state.id, state.owner, c.owner}};
          },
          [&](const tag_contact& c) -> decision<contact_event> {
            if (auto r = require_active(state)) return *r;
            std::vector<std::string> added;
            if (auto r = rules::tags_to_add("tags", state.tags, c.tags, added)) return *r;
            if (added.empty()) return events{};
            return contact_event{contact_tagged{state.id, std::move(added)}};
          },
          [&](const untag_contact& c) -> decision<contact_event> {
            if (auto r = require_active(state)) return *r;
            auto removed = rules::tags_to_remove(state.tags, c.tags);
            if (removed.empty()) return events{};
            return contact_event{contact_untagged{state.id, std::move(removed)}};
          },
          [&](const give_contact_consent& c) -> decision<contact_event> {
            if (auto r = require_active(state)) return *r;
            return decide_consent(c, state, true, ctx);
          },
          [&](const withdraw_contact_consent& c) -> decision<contact_event> {
            // Withdrawing must stay as easy as giving (GDPR art. 7(3)), archived or not.
            if (auto r = require_live(state)) return *r;
            return decide_consent(c, state, false, ctx);
          },
          [&](const archive_contact&) -> decision<contact_event> {
            if (auto r = require_live(state)) return *r;
            if (state.archived) return events{};
            return contact_event{contact_archived{state.id}};
          },
          [&](const restore_contact&) -> decision<contact_event> {
            if (auto r = require_live(state)) return *r;
            if (!state.archived) return events{};
            return contact_event{contact_restored{state.id}};
          },
          [&](const erase_contact& c) -> decision<contact_event> {
            if (!state.exists) return not_found("contact does not exist");
            if (state.erased) return invalid_state("erased", "contact was erased already");
            if (auto r = rules::check_erasure_reason(c.reason)) return *r;
            return contact_event{contact_erased{state.id, rules::trimmed(c.reason)}};
          },
      },
      command);
}

decision<contact_event> decide_merge(const contact_state& survivor,
                                     const std::vector<contact_state>& duplicates,
                                     const command_context&) {
  if (auto r = require_active(survivor)) return *r;
  if (duplicates.empty()) return invalid("duplicates", "name at least one duplicate");
  if (duplicates.size() > kMaxMergeDuplicates) {
    return invalid("duplicates", "at most " + std::to_string(kMaxMergeDuplicates) +
                                     " contacts can be merged at once");
  }
  contact_merged merged{survivor.id, {}, {}, {}, {}};
  auto absorb_email = [&](const contact_email& e) {
    if (!survivor.find_email(e.address) &&
        std::none_of(merged.emails.begin(), merged.emails.end(),
                     [&](const contact_email& m) { return m.address == e.address; })) {
      merged.emails.push_back({e.address, false});
    }
  };
  for (std::size_t i = 0; i < duplicates.size(); ++i) {
    const std::string field = "duplicates/" + std::to_string(i);
    const contact_state& d = duplicates[i];
    if (!d.exists) return rejection{rejection_code::not_found, field, "contact does not exist"};
    if (d.id == survivor.id) return invalid(field, "a contact cannot be merged into itself");
    if (contains(merged.duplicates, d.id)) return invalid(field, "is named twice");
    if (d.merged_into) {
      return invalid_state(field, "was already merged into " + d.merged_into->value);
    }
    if (d.erased) return invalid_state(field, "was erased");
    merged.duplicates.push_back(d.id);
    // A duplicate's primary address comes first: it becomes the survivor's primary if the
    // survivor had none.
    if (const auto* primary = d.primary_email()) absorb_email(*primary);
    for (const auto& e : d.emails) absorb_email(e);
    for (const auto& p : d.phones) {
      const auto key = phone_key(p.number);
      if (!survivor.find_phone(p.number) &&
          std::none_of(merged.phones.begin(), merged.phones.end(),
                       [&](const contact_phone& m) { return phone_key(m.number) == key; })) {
        merged.phones.push_back(p);
      }
    }
    for (const auto& tag : d.tags) {
      if (!contains(survivor.tags, tag) && !contains(merged.tags, tag)) merged.tags.push_back(tag);
    }
  }
  if (survivor.emails.empty() && !merged.emails.empty()) merged.emails.front().primary = true;
  if (survivor.emails.size() + merged.emails.size() > kMaxContactEmails) {
    return invalid("duplicates", "the merged contact would exceed " +
                                     std::to_string(kMaxContactEmails) +
                                     " e-mail addresses; remove some first");
  }
  if (survivor.phones.size() + merged.phones.size() > kMaxContactPhones) {
    return invalid("duplicates", "the merged contact would exceed " +
                                     std::to_string(kMaxContactPhones) +
                                     " phone numbers; remove some first");
  }
  if (survivor.tags.size() + merged.tags.size() > rules::kMaxTags) {
    return invalid("duplicates", "the merged contact would exceed " +
                                     std::to_string(rules::kMaxTags) + " tags; remove some first");
  }
  return contact_event{std::move(merged)};
}

contact_event merged_into(const contact_state& duplicate, const contact_id& survivor) {
  return contact_merged_into{duplicate.id, survivor};
}

}  // namespace realmkit::domain

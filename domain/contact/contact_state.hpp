// The contact aggregate: its folded state, evolve, decide, and the merge of duplicates.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/contact/contact_commands.hpp"
#include "domain/contact/contact_events.hpp"

namespace realmkit::domain {

// The latest decision on one channel. Never asked (`at` empty) counts as not granted.
struct consent_record {
  bool granted = false;
  std::optional<timestamp> at;  // when it was last given or withdrawn
  std::string source;

  bool operator==(const consent_record&) const = default;
};

struct contact_state {
  bool exists = false;
  contact_id id;
  std::string first_name;
  std::string last_name;
  std::vector<contact_email> emails;  // normalized; exactly one primary when not empty
  std::vector<contact_phone> phones;
  std::optional<company_id> company;
  std::string title;
  user_id owner;
  std::vector<std::string> tags;           // normalized, in the order they were added
  std::array<consent_record, 3> consents;  // indexed by consent_channel
  bool archived = false;
  std::optional<contact_id> merged_into;  // set once merged: the contact is then read-only

  const contact_email* primary_email() const;
  const contact_email* find_email(std::string_view address) const;  // compared normalized
  const contact_phone* find_phone(std::string_view number) const;   // compared by digits
  const consent_record& consent(consent_channel channel) const;
  consent_record& consent(consent_channel channel);
};

inline constexpr std::size_t kMaxContactEmails = 20;
inline constexpr std::size_t kMaxContactPhones = 20;
inline constexpr std::size_t kMaxMergeDuplicates = 20;
inline constexpr std::size_t kMaxConsentSourceLength = 200;

// The key two phone numbers are compared by: their digits, so formatting does not matter.
std::string phone_key(std::string_view number);

contact_state evolve(contact_state state, const contact_event& event);
decision<contact_event> decide(const contact_command& command, const contact_state& state,
                               const command_context& context);

// Folds `duplicates` into `survivor`: contact.merged.v1 for the survivor's stream, carrying the
// addresses, numbers and tags it did not have. Refuses a missing, archived or merged survivor; no
// duplicates or more than kMaxMergeDuplicates; a duplicate that is missing, already merged, named
// twice or the survivor itself; a result above the survivor's limits. The command layer maps
// merge_contacts' ids to the states it loaded, in the same order, so "duplicates/<i>" names the
// offending id.
decision<contact_event> decide_merge(const contact_state& survivor,
                                     const std::vector<contact_state>& duplicates,
                                     const command_context& context);

// The event for each duplicate's stream once decide_merge accepted the merge.
contact_event merged_into(const contact_state& duplicate, const contact_id& survivor);

struct contact_aggregate {
  using state = contact_state;
  using event = contact_event;
  using command = contact_command;
  static constexpr std::string_view kCategory = "contact";
};

}  // namespace realmkit::domain

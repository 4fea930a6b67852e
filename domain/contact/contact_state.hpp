// The contact aggregate: its folded state, evolve, decide, and the merge of duplicates.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
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
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("granted", self.granted);
    v("at", self.at);
    v("source", self.source);
  }
};

// The consents of a contact as one object keyed by channel name: a view over the state's array,
// which the codec has no form for. Consents is the array, const when writing.
template <class Consents>
struct consents_by_channel {
  Consents& consents;

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("email_marketing", self.consents[static_cast<std::size_t>(consent_channel::email_marketing)]);
    v("sms_marketing", self.consents[static_cast<std::size_t>(consent_channel::sms_marketing)]);
    v("phone_calls", self.consents[static_cast<std::size_t>(consent_channel::phone_calls)]);
  }
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
  std::vector<contact_id> merged_from;    // the duplicates merged into this one, oldest first
  bool erased = false;                    // its personal fields are gone for good

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("first_name", self.first_name);
    v("last_name", self.last_name);
    v("emails", self.emails);
    v("phones", self.phones);
    v("company_id", self.company);
    v("title", self.title);
    v("owner_id", self.owner);
    v("tags", self.tags);
    consents_by_channel<std::remove_reference_t<decltype((self.consents))>> consents{self.consents};
    v("consents", consents);
    v("archived", self.archived);
    v("merged_into_id", self.merged_into);
    v("merged_from_ids", self.merged_from);
    v("erased", self.erased);
  }

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

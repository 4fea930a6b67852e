// Commands of the contact aggregate. Merging is not among them: it needs the duplicates' states,
// so it has its own entry point (decide_merge in contact_state.hpp).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/contact/contact_events.hpp"

namespace realmkit::domain {

// When no address is marked primary, the first one is.
struct create_contact {
  contact_id contact;
  std::string first_name;
  std::string last_name;
  std::vector<contact_email> emails;
  std::vector<contact_phone> phones;
  std::optional<company_id> company;
  std::string title;
  std::optional<user_id> owner;  // the actor when absent
  std::vector<std::string> tags;
};

// A PATCH: absent fields stay as they are; an empty first name or title clears it.
struct update_contact {
  contact_id contact;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> title;
};

// No company: the contact no longer belongs to one.
struct change_contact_company {
  contact_id contact;
  std::optional<company_id> company;
};

// Adding an address the contact already has only makes it primary, if asked to.
struct add_contact_email {
  contact_id contact;
  std::string address;
  bool make_primary = false;
};

struct remove_contact_email {
  contact_id contact;
  std::string address;
};

struct set_primary_contact_email {
  contact_id contact;
  std::string address;
};

struct add_contact_phone {
  contact_id contact;
  std::string number;
  phone_label label = phone_label::other;
};

struct remove_contact_phone {
  contact_id contact;
  std::string number;  // matched by its digits, so "+1 (555) 0100" removes "+1 555 0100"
};

struct assign_contact_owner {
  contact_id contact;
  user_id owner;
};

struct tag_contact {
  contact_id contact;
  std::vector<std::string> tags;
};

struct untag_contact {
  contact_id contact;
  std::vector<std::string> tags;
};

// `at` defaults to the command's time; a consent obtained earlier (a paper form) gives its own.
struct give_contact_consent {
  contact_id contact;
  consent_channel channel = consent_channel::email_marketing;
  std::optional<timestamp> at;
  std::string source;
};

struct withdraw_contact_consent {
  contact_id contact;
  consent_channel channel = consent_channel::email_marketing;
  std::optional<timestamp> at;
  std::string source;
};

struct archive_contact {
  contact_id contact;
};

struct restore_contact {
  contact_id contact;
};

// The right to erasure (GDPR art. 17). The command layer destroys the person's key first; this
// records that it happened. A merged contact can be erased too: its own events hold its data.
struct erase_contact {
  contact_id contact;
  std::string reason;
};

using contact_command =
    std::variant<create_contact, update_contact, change_contact_company, add_contact_email,
                 remove_contact_email, set_primary_contact_email, add_contact_phone,
                 remove_contact_phone, assign_contact_owner, tag_contact, untag_contact,
                 give_contact_consent, withdraw_contact_consent, archive_contact, restore_contact,
                 erase_contact>;

// The request to merge: the command layer loads the survivor's and each duplicate's stream, calls
// decide_merge, and on success appends merged_into() to every duplicate in the same append.
struct merge_contacts {
  contact_id survivor;
  std::vector<contact_id> duplicates;
};

}  // namespace realmkit::domain

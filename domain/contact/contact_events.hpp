// Events of the contact aggregate: a person at (or outside) a company, with their addresses,
// numbers, tags, marketing consent, and the merges that fold duplicates into one record.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/common/types.hpp"

namespace realmkit::domain {

enum class phone_label { mobile, work, home, fax, other };

constexpr std::string_view to_string(phone_label label) {
  switch (label) {
    case phone_label::mobile:
      return "mobile";
    case phone_label::work:
      return "work";
    case phone_label::home:
      return "home";
    case phone_label::fax:
      return "fax";
    case phone_label::other:
      return "other";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, phone_label& out) {
  return parse_enum(text, out,
                    {phone_label::mobile, phone_label::work, phone_label::home, phone_label::fax,
                     phone_label::other});
}

// The channels a contact consents to separately (GDPR art. 7: consent is given per purpose).
enum class consent_channel { email_marketing, sms_marketing, phone_calls };

constexpr std::string_view to_string(consent_channel channel) {
  switch (channel) {
    case consent_channel::email_marketing:
      return "email_marketing";
    case consent_channel::sms_marketing:
      return "sms_marketing";
    case consent_channel::phone_calls:
      return "phone_calls";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, consent_channel& out) {
  return parse_enum(text, out,
                    {consent_channel::email_marketing, consent_channel::sms_marketing,
                     consent_channel::phone_calls});
}

// Addresses are stored normalized (trimmed, lowercase): the form under which they are unique.
struct contact_email {
  std::string address;
  bool primary = false;

  bool operator==(const contact_email&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("address", self.address);
    v("primary", self.primary);
  }
};

struct contact_phone {
  std::string number;  // as typed, trimmed; two numbers with the same digits are the same number
  phone_label label = phone_label::other;

  bool operator==(const contact_phone&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("number", self.number);
    v("label", self.label);
  }
};

// Exactly one of `emails` is primary when there are any.
struct contact_created {
  static constexpr std::string_view kType = "contact.created.v1";
  contact_id contact;
  std::string first_name;
  std::string last_name;
  std::vector<contact_email> emails;
  std::vector<contact_phone> phones;
  std::optional<company_id> company;
  std::string title;
  user_id owner;
  std::vector<std::string> tags;  // normalized, without repeats

  bool operator==(const contact_created&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("first_name", self.first_name);
    v("last_name", self.last_name);
    v("emails", self.emails);
    v("phones", self.phones);
    v("company_id", self.company);
    v("title", self.title);
    v("owner_id", self.owner);
    v("tags", self.tags);
  }
};

// Only the fields that changed are present; an empty first name or title was cleared.
struct contact_updated {
  static constexpr std::string_view kType = "contact.updated.v1";
  contact_id contact;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> title;

  bool operator==(const contact_updated&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("first_name", self.first_name);
    v("last_name", self.last_name);
    v("title", self.title);
  }
};

// No company on either side means "not linked to a company".
struct contact_company_changed {
  static constexpr std::string_view kType = "contact.company_changed.v1";
  contact_id contact;
  std::optional<company_id> from;
  std::optional<company_id> to;

  bool operator==(const contact_company_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("from_company_id", self.from);
    v("to_company_id", self.to);
  }
};

// A primary address added demotes the previous primary.
struct contact_email_added {
  static constexpr std::string_view kType = "contact.email_added.v1";
  contact_id contact;
  contact_email email;

  bool operator==(const contact_email_added&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("email", self.email);
  }
};

// Never the primary address while others remain: contact.primary_email_changed.v1 moves the
// primary away first.
struct contact_email_removed {
  static constexpr std::string_view kType = "contact.email_removed.v1";
  contact_id contact;
  std::string address;

  bool operator==(const contact_email_removed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("address", self.address);
  }
};

struct contact_primary_email_changed {
  static constexpr std::string_view kType = "contact.primary_email_changed.v1";
  contact_id contact;
  std::string from;
  std::string to;

  bool operator==(const contact_primary_email_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("from", self.from);
    v("to", self.to);
  }
};

struct contact_phone_added {
  static constexpr std::string_view kType = "contact.phone_added.v1";
  contact_id contact;
  contact_phone phone;

  bool operator==(const contact_phone_added&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("phone", self.phone);
  }
};

// `number` is the number as stored on the contact.
struct contact_phone_removed {
  static constexpr std::string_view kType = "contact.phone_removed.v1";
  contact_id contact;
  std::string number;

  bool operator==(const contact_phone_removed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("number", self.number);
  }
};

struct contact_owner_assigned {
  static constexpr std::string_view kType = "contact.owner_assigned.v1";
  contact_id contact;
  user_id from_owner;
  user_id to_owner;

  bool operator==(const contact_owner_assigned&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("from_owner_id", self.from_owner);
    v("to_owner_id", self.to_owner);
  }
};

// Only the tags that were not there before.
struct contact_tagged {
  static constexpr std::string_view kType = "contact.tagged.v1";
  contact_id contact;
  std::vector<std::string> tags;

  bool operator==(const contact_tagged&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("tags", self.tags);
  }
};

// Only the tags that were there.
struct contact_untagged {
  static constexpr std::string_view kType = "contact.untagged.v1";
  contact_id contact;
  std::vector<std::string> tags;

  bool operator==(const contact_untagged&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("tags", self.tags);
  }
};

// `at` is when the contact gave consent (a signed form may predate its entry); `source` says how
// it was obtained ("web form /newsletter", "signed paper form"), which GDPR asks us to be able to
// show.
struct contact_consent_given {
  static constexpr std::string_view kType = "contact.consent_given.v1";
  contact_id contact;
  consent_channel channel = consent_channel::email_marketing;
  timestamp at{};
  std::string source;

  bool operator==(const contact_consent_given&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("channel", self.channel);
    v("at", self.at);
    v("source", self.source);
  }
};

struct contact_consent_withdrawn {
  static constexpr std::string_view kType = "contact.consent_withdrawn.v1";
  contact_id contact;
  consent_channel channel = consent_channel::email_marketing;
  timestamp at{};
  std::string source;

  bool operator==(const contact_consent_withdrawn&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("channel", self.channel);
    v("at", self.at);
    v("source", self.source);
  }
};

struct contact_archived {
  static constexpr std::string_view kType = "contact.archived.v1";
  contact_id contact;

  bool operator==(const contact_archived&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
  }
};

struct contact_restored {
  static constexpr std::string_view kType = "contact.restored.v1";
  contact_id contact;

  bool operator==(const contact_restored&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
  }
};

// On the surviving contact: what it absorbed from the duplicates, only what it did not already
// have. An absorbed address is primary only when the survivor had no address before.
struct contact_merged {
  static constexpr std::string_view kType = "contact.merged.v1";
  contact_id contact;
  std::vector<contact_id> duplicates;
  std::vector<contact_email> emails;
  std::vector<contact_phone> phones;
  std::vector<std::string> tags;

  bool operator==(const contact_merged&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("duplicate_ids", self.duplicates);
    v("emails", self.emails);
    v("phones", self.phones);
    v("tags", self.tags);
  }
};

// On each duplicate: it now only points at the survivor and refuses every command.
struct contact_merged_into {
  static constexpr std::string_view kType = "contact.merged_into.v1";
  contact_id contact;
  contact_id survivor;

  bool operator==(const contact_merged_into&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("survivor_id", self.survivor);
  }
};

// The right to erasure was exercised: the person's key is destroyed, so the personal fields of
// every earlier event of the stream read as erased, and read models forget them. The reason is
// the operator's (a request's reference), never personal data.
struct contact_erased {
  static constexpr std::string_view kType = "contact.erased.v1";
  contact_id contact;
  std::string reason;

  bool operator==(const contact_erased&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("contact_id", self.contact);
    v("reason", self.reason);
  }
};

using contact_event =
    std::variant<contact_created, contact_updated, contact_company_changed, contact_email_added,
                 contact_email_removed, contact_primary_email_changed, contact_phone_added,
                 contact_phone_removed, contact_owner_assigned, contact_tagged, contact_untagged,
                 contact_consent_given, contact_consent_withdrawn, contact_archived,
                 contact_restored, contact_merged, contact_merged_into, contact_erased>;

}  // namespace realmkit::domain

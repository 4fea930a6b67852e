// Events of the lead aggregate: a prospect who is worked (contacted, qualified or disqualified)
// and finally converted into a contact, and possibly a company and a deal, in their own streams.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/common/types.hpp"

namespace realmkit::domain {

enum class lead_source { web, referral, event, cold_call, advertisement, partner, other };

constexpr std::string_view to_string(lead_source source) {
  switch (source) {
    case lead_source::web:
      return "web";
    case lead_source::referral:
      return "referral";
    case lead_source::event:
      return "event";
    case lead_source::cold_call:
      return "cold_call";
    case lead_source::advertisement:
      return "advertisement";
    case lead_source::partner:
      return "partner";
    case lead_source::other:
      return "other";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, lead_source& out) {
  return parse_enum(
      text, out,
      {lead_source::web, lead_source::referral, lead_source::event, lead_source::cold_call,
       lead_source::advertisement, lead_source::partner, lead_source::other});
}

// `fresh` is "new" on the wire (`new` is a C++ keyword).
enum class lead_status { fresh, contacted, qualified, disqualified, converted };

constexpr std::string_view to_string(lead_status status) {
  switch (status) {
    case lead_status::fresh:
      return "new";
    case lead_status::contacted:
      return "contacted";
    case lead_status::qualified:
      return "qualified";
    case lead_status::disqualified:
      return "disqualified";
    case lead_status::converted:
      return "converted";
  }
  return {};
}

constexpr bool from_string(std::string_view text, lead_status& out) {
  return parse_enum(text, out,
                    {lead_status::fresh, lead_status::contacted, lead_status::qualified,
                     lead_status::disqualified, lead_status::converted});
}

// A lead starts as "new". Text fields are empty when unknown; the e-mail address is normalized.
struct lead_created {
  static constexpr std::string_view kType = "lead.created.v1";
  lead_id lead;
  std::string name;
  std::string email;
  std::string phone;
  std::string company_name;  // free text: the lead's company need not exist as a record yet
  lead_source source = lead_source::other;
  user_id owner;

  bool operator==(const lead_created&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("name", self.name);
    v("email", self.email);
    v("phone", self.phone);
    v("company_name", self.company_name);
    v("source", self.source);
    v("owner_id", self.owner);
  }
};

// Only the fields that changed are present; an empty string means the field was cleared.
struct lead_updated {
  static constexpr std::string_view kType = "lead.updated.v1";
  lead_id lead;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> company_name;
  std::optional<lead_source> source;

  bool operator==(const lead_updated&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("name", self.name);
    v("email", self.email);
    v("phone", self.phone);
    v("company_name", self.company_name);
    v("source", self.source);
  }
};

struct lead_owner_assigned {
  static constexpr std::string_view kType = "lead.owner_assigned.v1";
  lead_id lead;
  user_id from_owner;
  user_id to_owner;

  bool operator==(const lead_owner_assigned&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("from_owner_id", self.from_owner);
    v("to_owner_id", self.to_owner);
  }
};

// Status events carry `at` so funnel analytics measures time between steps from the events alone.
struct lead_contacted {
  static constexpr std::string_view kType = "lead.contacted.v1";
  lead_id lead;
  timestamp at{};

  bool operator==(const lead_contacted&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("at", self.at);
  }
};

struct lead_qualified {
  static constexpr std::string_view kType = "lead.qualified.v1";
  lead_id lead;
  timestamp at{};

  bool operator==(const lead_qualified&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("at", self.at);
  }
};

struct lead_disqualified {
  static constexpr std::string_view kType = "lead.disqualified.v1";
  lead_id lead;
  std::string reason;
  timestamp at{};

  bool operator==(const lead_disqualified&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("reason", self.reason);
    v("at", self.at);
  }
};

// Back from disqualified to contacted.
struct lead_reopened {
  static constexpr std::string_view kType = "lead.reopened.v1";
  lead_id lead;
  timestamp at{};

  bool operator==(const lead_reopened&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("at", self.at);
  }
};

// `model` names what produced the score ("manual", "rules-v3", a model version) so scores from
// different models are never compared blindly; `reason` explains it to the sales rep.
struct lead_scored {
  static constexpr std::string_view kType = "lead.scored.v1";
  lead_id lead;
  int score = 0;  // 0–100
  std::string reason;
  std::string model;

  bool operator==(const lead_scored&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("score", self.score);
    v("reason", self.reason);
    v("model", self.model);
  }
};

// The records the lead became; they are created in their own streams by the command layer, and
// the lead only remembers their ids.
struct lead_converted {
  static constexpr std::string_view kType = "lead.converted.v1";
  lead_id lead;
  contact_id contact;
  std::optional<company_id> company;
  std::optional<deal_id> deal;
  timestamp at{};

  bool operator==(const lead_converted&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("contact_id", self.contact);
    v("company_id", self.company);
    v("deal_id", self.deal);
    v("at", self.at);
  }
};

// The right to erasure: the lead's key is destroyed (see contact_erased).
struct lead_erased {
  static constexpr std::string_view kType = "lead.erased.v1";
  lead_id lead;
  std::string reason;

  bool operator==(const lead_erased&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("lead_id", self.lead);
    v("reason", self.reason);
  }
};

using lead_event =
    std::variant<lead_created, lead_updated, lead_owner_assigned, lead_contacted, lead_qualified,
                 lead_disqualified, lead_reopened, lead_scored, lead_converted, lead_erased>;

}  // namespace realmkit::domain

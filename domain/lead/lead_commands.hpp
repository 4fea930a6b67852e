// Commands of the lead aggregate.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "domain/lead/lead_events.hpp"

namespace realmkit::domain {

struct create_lead {
  lead_id lead;
  std::string name;
  std::string email;
  std::string phone;
  std::string company_name;
  lead_source source = lead_source::other;
  std::optional<user_id> owner;  // the actor when absent
};

// A PATCH: absent fields stay as they are, an empty string clears a field (but not the name).
struct update_lead {
  lead_id lead;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> company_name;
  std::optional<lead_source> source;
};

struct assign_lead_owner {
  lead_id lead;
  user_id owner;
};

struct mark_lead_contacted {
  lead_id lead;
};

struct qualify_lead {
  lead_id lead;
};

struct disqualify_lead {
  lead_id lead;
  std::string reason;
};

struct reopen_lead {
  lead_id lead;
};

struct score_lead {
  lead_id lead;
  int score = 0;
  std::string reason;
  std::string model;
};

// The ids of the records the command layer creates for the conversion, in the same request.
struct convert_lead {
  lead_id lead;
  contact_id contact;
  std::optional<company_id> company;
  std::optional<deal_id> deal;
};

// The right to erasure; a converted lead can be erased too (its contact is erased on its own).
struct erase_lead {
  lead_id lead;
  std::string reason;
};

using lead_command =
    std::variant<create_lead, update_lead, assign_lead_owner, mark_lead_contacted, qualify_lead,
                 disqualify_lead, reopen_lead, score_lead, convert_lead, erase_lead>;

}  // namespace realmkit::domain

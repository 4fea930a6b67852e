// Commands of the deal aggregate. Ids and time come from the caller; the deal id of a create is
// chosen by the caller, so a retried create is recognised as the same deal.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/deal/deal_events.hpp"

namespace realmkit::domain {

struct create_deal {
  deal_id deal;
  pipeline_id pipeline;
  stage_id stage;
  std::string title;
  money value;
  std::optional<user_id> owner;  // the actor when absent
  std::optional<company_id> company;
  std::vector<contact_id> contacts;  // duplicates are ignored
  std::optional<date> expected_close_date;
};

struct rename_deal {
  deal_id deal;
  std::string title;
};

// The currency may change with the amount: a deal quoted in the wrong currency is corrected, not
// recreated.
struct change_deal_value {
  deal_id deal;
  money value;
};

// Moves within the deal's own pipeline.
struct move_deal_stage {
  deal_id deal;
  stage_id stage;
};

struct assign_deal_owner {
  deal_id deal;
  user_id owner;
};

struct link_deal_company {
  deal_id deal;
  company_id company;
};

struct unlink_deal_company {
  deal_id deal;
};

struct link_deal_contact {
  deal_id deal;
  contact_id contact;
};

struct unlink_deal_contact {
  deal_id deal;
  contact_id contact;
};

struct change_deal_close_date {
  deal_id deal;
  std::optional<date> expected_close_date;  // absent clears it
};

struct win_deal {
  deal_id deal;
};

struct lose_deal {
  deal_id deal;
  std::string reason;
};

struct reopen_deal {
  deal_id deal;
  std::optional<stage_id> stage;  // the stage it was closed in when absent
};

struct archive_deal {
  deal_id deal;
};

struct restore_deal {
  deal_id deal;
};

// Replaces a linked contact that was merged by its survivor. Nothing happens when the deal no
// longer names `from`, so a repeated relink is harmless.
struct relink_deal_contact {
  deal_id deal;
  contact_id from;
  contact_id to;
};

using deal_command =
    std::variant<create_deal, rename_deal, change_deal_value, move_deal_stage, assign_deal_owner,
                 link_deal_company, unlink_deal_company, link_deal_contact, unlink_deal_contact,
                 change_deal_close_date, win_deal, lose_deal, reopen_deal, archive_deal,
                 restore_deal, relink_deal_contact>;

}  // namespace realmkit::domain

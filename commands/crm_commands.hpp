// Entry points for every command of the CRM: each runs through the generic command path, loading
// the other aggregates a decision needs (a deal's pipeline) and appending atomically across streams
// where one command touches several (lead conversion, contact merge).
#pragma once

#include <optional>

#include "commands/command_handler.hpp"
#include "domain/activity/activity_state.hpp"
#include "domain/company/company_state.hpp"
#include "domain/contact/contact_state.hpp"
#include "domain/deal/deal_state.hpp"
#include "domain/lead/lead_state.hpp"
#include "domain/pipeline/pipeline_state.hpp"
#include "domain/task/task_state.hpp"
#include "domain/team/team_state.hpp"
#include "domain/user/user_state.hpp"

namespace realmkit::commands {

// expected_version: the caller's If-Match for the aggregate the command names (nullopt: none).
outcome execute(command_handler& handler, const domain::user_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});
outcome execute(command_handler& handler, const domain::team_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});
outcome execute(command_handler& handler, const domain::company_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});
outcome execute(command_handler& handler, const domain::contact_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});
outcome execute(command_handler& handler, const domain::lead_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});
outcome execute(command_handler& handler, const domain::pipeline_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});
outcome execute(command_handler& handler, const domain::deal_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});
outcome execute(command_handler& handler, const domain::activity_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});
outcome execute(command_handler& handler, const domain::task_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version = {});

// Merges duplicates into the survivor in one atomic append: contact.merged on the survivor,
// contact.merged_into on every duplicate. expected_version applies to the survivor.
outcome merge_contacts(command_handler& handler, const domain::merge_contacts& command,
                       const command_metadata& meta,
                       std::optional<std::int64_t> expected_version = {});

// Converts a qualified lead into a contact, optionally a company (named after the lead's company)
// and optionally a deal, all in one atomic append. The ids are the caller's, so a retry with the
// same idempotency key or the same ids creates nothing twice.
struct convert_lead_request {
  domain::lead_id lead;
  domain::contact_id contact;
  std::optional<domain::company_id> company;  // created from the lead's company name
  struct deal_part {
    domain::deal_id deal;
    domain::pipeline_id pipeline;
    domain::stage_id stage;
    std::string title;  // the lead's name when empty
    domain::money value;
    std::optional<domain::date> expected_close_date;
  };
  std::optional<deal_part> deal;
  std::optional<domain::user_id> owner;  // the lead's owner when absent
};
outcome convert_lead(command_handler& handler, const convert_lead_request& request,
                     const command_metadata& meta,
                     std::optional<std::int64_t> expected_version = {});

}  // namespace realmkit::commands

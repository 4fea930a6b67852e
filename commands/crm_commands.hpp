// Entry points for every command of the CRM: each runs through the generic command path, loading
// the other aggregates a decision needs (a deal's pipeline) and appending atomically across streams
// where one command touches several (lead conversion, contact merge).
#pragma once

#include <functional>
#include <optional>
#include <vector>

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

// A check on the loaded state of the aggregate a command names, run inside the unit of work that
// decides the command (so it sees the same state the decision rests on): how the API hides a
// record outside the caller's scope without racing a concurrent reassignment. Returns a rejection
// to refuse the command; an empty function checks nothing.
template <class State>
using precondition = std::function<std::optional<domain::rejection>(const State&)>;

// The aggregate a command variant belongs to.
template <class Command>
struct aggregate_for;
template <>
struct aggregate_for<domain::user_command> {
  using type = domain::user_aggregate;
};
template <>
struct aggregate_for<domain::team_command> {
  using type = domain::team_aggregate;
};
template <>
struct aggregate_for<domain::company_command> {
  using type = domain::company_aggregate;
};
template <>
struct aggregate_for<domain::contact_command> {
  using type = domain::contact_aggregate;
};
template <>
struct aggregate_for<domain::lead_command> {
  using type = domain::lead_aggregate;
};
template <>
struct aggregate_for<domain::pipeline_command> {
  using type = domain::pipeline_aggregate;
};
template <>
struct aggregate_for<domain::deal_command> {
  using type = domain::deal_aggregate;
};
template <>
struct aggregate_for<domain::activity_command> {
  using type = domain::activity_aggregate;
};
template <>
struct aggregate_for<domain::task_command> {
  using type = domain::task_aggregate;
};
template <class Command>
using state_for = typename aggregate_for<Command>::type::state;

// Runs commands of one aggregate in order and appends what they decide atomically: all or
// nothing (a PATCH of several fields). Every command must name the same aggregate, else the
// answer is an invalid rejection. expected_version is the caller's If-Match for that aggregate
// (nullopt: none); `check` runs on its loaded state before the first decision.
//
// User and team commands keep both sides in step: a user's team change adds them to the new
// team's members and removes them from the old one's, team membership changes move the user, and
// registering or changing an e-mail address reserves it (email_reservation.hpp), refusing an
// address another user holds with already_exists on "email".
template <class Command>
outcome execute_all(command_handler& handler, const std::vector<Command>& commands,
                    const command_metadata& meta, std::optional<std::int64_t> expected_version = {},
                    const precondition<state_for<Command>>& check = {});

// One command: execute_all with a single command.
template <class Command>
outcome execute(command_handler& handler, const Command& command, const command_metadata& meta,
                std::optional<std::int64_t> expected_version = {},
                const precondition<state_for<Command>>& check = {}) {
  return execute_all(handler, std::vector<Command>{command}, meta, expected_version, check);
}

// Merges duplicates into the survivor in one atomic append: contact.merged on the survivor,
// contact.merged_into on every duplicate. expected_version applies to the survivor.
// `check` runs on the survivor and on every duplicate as loaded; a duplicate it refuses is named
// "duplicate_ids/<i>".
outcome merge_contacts(command_handler& handler, const domain::merge_contacts& command,
                       const command_metadata& meta,
                       std::optional<std::int64_t> expected_version = {},
                       const precondition<domain::contact_state>& check = {});

// Completes a task. A recurring one's next occurrence (domain::next_occurrence) is created in the
// same append; its id follows from the series, so completing again after a reopen, or a retry,
// creates it once. `check` runs on the task as loaded.
outcome complete_task(command_handler& handler, const domain::task_id& task,
                      const command_metadata& meta,
                      std::optional<std::int64_t> expected_version = {},
                      const precondition<domain::task_state>& check = {});

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
// `check` runs on the lead as loaded.
outcome convert_lead(command_handler& handler, const convert_lead_request& request,
                     const command_metadata& meta,
                     std::optional<std::int64_t> expected_version = {},
                     const precondition<domain::lead_state>& check = {});

}  // namespace realmkit::commands

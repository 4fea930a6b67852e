#include <algorithm>
#include <set>

#include "domain/deal/deal_state.hpp"

namespace realmkit::domain {
namespace {

using namespace std::chrono;

using events = std::vector<deal_event>;

// Expected close dates outside this range are typing mistakes (a year of 20256 or 1925), not plans.
constexpr date kEarliestCloseDate = year{2000} / January / 1;
constexpr date kLatestCloseDate = year{2199} / December / 31;

std::optional<rejection> check_close_date(const std::optional<date>& value) {
  if (value && (*value < kEarliestCloseDate || *value > kLatestCloseDate)) {
    return invalid("expected_close_date", "must lie between 2000-01-01 and 2199-12-31");
  }
  return std::nullopt;
}

// The rules of every command on an existing deal: archiving freezes the deal until restored.
std::optional<rejection> require_active(const deal_state& state) {
  if (!state.exists) return not_found("deal does not exist");
  if (state.archived) return invalid_state("archived", "deal is archived; restore it first");
  return std::nullopt;
}

std::optional<rejection> require_open(const deal_state& state) {
  if (auto r = require_active(state)) return r;
  if (state.status != deal_status::open) {
    return invalid_state("status",
                         "deal is " + std::string(to_string(state.status)) + "; reopen it first");
  }
  return std::nullopt;
}

// A deal may only enter a stage of a live pipeline; the caller loads the pipeline, so a pipeline
// other than the deal's own is reported rather than trusted.
std::optional<rejection> require_usable_pipeline(const pipeline_state& pipeline,
                                                 const pipeline_id& expected) {
  if (!pipeline.exists || pipeline.id != expected) {
    return invalid_state("pipeline_id", "the deal's pipeline does not exist");
  }
  if (pipeline.archived) return invalid_state("pipeline_id", "pipeline is archived");
  return std::nullopt;
}

std::optional<rejection> check_lost_reason(std::string_view reason) {
  if (rules::trimmed(reason).empty()) return invalid("reason", "must not be empty");
  return rules::check_text("reason", rules::trimmed(reason), kMaxLostReasonLength);
}

decision<deal_event> decide_create(const create_deal& c, const deal_state& state,
                                   const pipeline_state& pipeline, const command_context& ctx) {
  if (state.exists) return already_exists("deal already exists");
  if (auto r = rules::check_id("id", c.deal.value)) return *r;
  if (auto r = rules::check_id("pipeline_id", c.pipeline.value)) return *r;
  if (!pipeline.exists || pipeline.id != c.pipeline) {
    return invalid("pipeline_id", "no such pipeline");
  }
  if (pipeline.archived) return invalid_state("pipeline_id", "pipeline is archived");
  if (!pipeline.find_stage(c.stage)) return invalid("stage_id", "is not a stage of the pipeline");
  if (auto r = rules::check_name("title", c.title)) return *r;
  if (auto r = rules::check_money("value", c.value)) return *r;
  const user_id owner = c.owner.value_or(ctx.actor);
  if (auto r = rules::check_id("owner_id", owner.value)) return *r;
  if (c.company) {
    if (auto r = rules::check_id("company_id", c.company->value)) return *r;
  }
  for (std::size_t i = 0; i < c.contacts.size(); ++i) {
    if (auto r = rules::check_id("contact_ids/" + std::to_string(i), c.contacts[i].value)) {
      return *r;
    }
  }
  const std::set<contact_id> contacts(c.contacts.begin(), c.contacts.end());
  if (contacts.size() > kMaxDealContacts) {
    return invalid("contact_ids",
                   "a deal links at most " + std::to_string(kMaxDealContacts) + " contacts");
  }
  if (auto r = check_close_date(c.expected_close_date)) return *r;
  return deal_event{deal_created{
      c.deal, c.pipeline, c.stage, rules::trimmed(c.title), c.value, owner, c.company,
      std::vector<contact_id>(contacts.begin(), contacts.end()), c.expected_close_date, ctx.now}};
}

decision<deal_event> decide_move(const move_deal_stage& c, const deal_state& state,
                                 const pipeline_state& pipeline, const command_context& ctx) {
  if (auto r = require_open(state)) return *r;
  if (auto r = require_usable_pipeline(pipeline, state.pipeline)) return *r;
  if (!pipeline.find_stage(c.stage)) return invalid("stage_id", "is not a stage of the pipeline");
  if (c.stage == state.stage) return events{};
  return deal_event{deal_stage_moved{state.id, state.pipeline, state.stage, c.stage, ctx.now}};
}

decision<deal_event> decide_reopen(const reopen_deal& c, const deal_state& state,
                                   const pipeline_state& pipeline, const command_context& ctx) {
  if (auto r = require_active(state)) return *r;
  if (state.status == deal_status::open) {
    return invalid_state("status", "only a won or lost deal can be reopened");
  }
  if (auto r = require_usable_pipeline(pipeline, state.pipeline)) return *r;
  const stage_id stage = c.stage.value_or(state.stage);
  if (!pipeline.find_stage(stage)) {
    return invalid("stage_id", c.stage ? "is not a stage of the pipeline"
                                       : "the deal's stage was removed from the pipeline; "
                                         "name the stage to reopen it in");
  }
  return deal_event{deal_reopened{state.id, stage, ctx.now}};
}

}  // namespace

pipeline_id pipeline_for(const deal_command& command, const deal_state& state) {
  if (const auto* create = std::get_if<create_deal>(&command)) return create->pipeline;
  return state.pipeline;
}

decision<deal_event> decide(const deal_command& command, const deal_state& state,
                            const pipeline_state& pipeline, const command_context& ctx) {
  return std::visit(
      overloaded{
          [&](const create_deal& c) { return decide_create(c, state, pipeline, ctx); },
          [&](const rename_deal& c) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_name("title", c.title)) return *r;
            auto title = rules::trimmed(c.title);
            if (title == state.title) return events{};
            return deal_event{deal_renamed{state.id, std::move(title)}};
          },
          [&](const change_deal_value& c) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_money("value", c.value)) return *r;
            if (c.value == state.value) return events{};
            return deal_event{deal_value_changed{state.id, state.value, c.value}};
          },
          [&](const move_deal_stage& c) { return decide_move(c, state, pipeline, ctx); },
          [&](const assign_deal_owner& c) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_id("owner_id", c.owner.value)) return *r;
            if (c.owner == state.owner) return events{};
            return deal_event{deal_owner_assigned{state.id, state.owner, c.owner}};
          },
          [&](const link_deal_company& c) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_id("company_id", c.company.value)) return *r;
            if (state.company == c.company) return events{};
            events out;
            if (state.company) out.push_back(deal_company_unlinked{state.id, *state.company});
            out.push_back(deal_company_linked{state.id, c.company});
            return out;
          },
          [&](const unlink_deal_company&) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (!state.company) return events{};
            return deal_event{deal_company_unlinked{state.id, *state.company}};
          },
          [&](const link_deal_contact& c) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_id("contact_id", c.contact.value)) return *r;
            if (state.contacts.contains(c.contact)) return events{};
            if (state.contacts.size() >= kMaxDealContacts) {
              return invalid("contact_id", "a deal links at most " +
                                               std::to_string(kMaxDealContacts) + " contacts");
            }
            return deal_event{deal_contact_linked{state.id, c.contact}};
          },
          [&](const relink_deal_contact& c) -> decision<deal_event> {
            if (!state.exists) return not_found("deal does not exist");
            if (auto r = rules::check_id("contact_id", c.to.value)) return *r;
            if (c.from == c.to) {
              return invalid("contact_id", "must differ from the contact it replaces");
            }
            if (!state.contacts.contains(c.from)) return events{};
            return deal_event{deal_contact_relinked{state.id, c.from, c.to}};
          },
          [&](const unlink_deal_contact& c) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (!state.contacts.contains(c.contact)) return events{};
            return deal_event{deal_contact_unlinked{state.id, c.contact}};
          },
          [&](const change_deal_close_date& c) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = check_close_date(c.expected_close_date)) return *r;
            if (c.expected_close_date == state.expected_close_date) return events{};
            return deal_event{deal_close_date_changed{state.id, state.expected_close_date,
                                                      c.expected_close_date}};
          },
          [&](const win_deal&) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (state.status == deal_status::won) {
              return invalid_state("status", "deal is already won");
            }
            if (auto r = require_open(state)) return *r;
            return deal_event{deal_won{state.id, ctx.now}};
          },
          [&](const lose_deal& c) -> decision<deal_event> {
            if (auto r = require_active(state)) return *r;
            if (state.status == deal_status::lost) {
              return invalid_state("status", "deal is already lost");
            }
            if (auto r = require_open(state)) return *r;
            if (auto r = check_lost_reason(c.reason)) return *r;
            return deal_event{deal_lost{state.id, rules::trimmed(c.reason), ctx.now}};
          },
          [&](const reopen_deal& c) { return decide_reopen(c, state, pipeline, ctx); },
          [&](const archive_deal&) -> decision<deal_event> {
            if (!state.exists) return not_found("deal does not exist");
            if (state.archived) return events{};
            return deal_event{deal_archived{state.id}};
          },
          [&](const restore_deal&) -> decision<deal_event> {
            if (!state.exists) return not_found("deal does not exist");
            if (!state.archived) return events{};
            return deal_event{deal_restored{state.id}};
          },
      },
      command);
}

}  // namespace realmkit::domain

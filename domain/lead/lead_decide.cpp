#include <vector>

#include "domain/common/erasure.hpp"
#include "domain/lead/lead_state.hpp"

namespace realmkit::domain {
namespace {

using events = std::vector<lead_event>;

// Empty is allowed (the field is unknown); otherwise one line without control characters.
std::optional<rejection> check_line(std::string_view field, std::string_view value,
                                    std::size_t max_length = rules::kMaxNameLength) {
  if (rules::trimmed(value).empty()) return std::nullopt;
  return rules::check_name(field, value, max_length);
}

std::optional<rejection> check_email(std::string_view value) {
  const auto email = rules::trimmed(value);
  if (email.empty()) return std::nullopt;
  return rules::check_email("email", email);
}

std::optional<rejection> check_phone(std::string_view value) {
  const auto phone = rules::trimmed(value);
  if (phone.empty()) return std::nullopt;
  return rules::check_phone("phone", phone);
}

std::optional<rejection> check_source(lead_source source) {
  if (to_string(source).empty()) {
    return invalid("source",
                   "must be one of web, referral, event, cold_call, advertisement, partner, other");
  }
  return std::nullopt;
}

// Every command needs the lead; a converted lead is read-only.
std::optional<rejection> require_workable(const lead_state& state) {
  if (!state.exists) return not_found("lead does not exist");
  if (state.erased) return invalid_state("erased", "lead was erased");
  if (state.status == lead_status::converted) {
    return invalid_state("status", "lead was converted and can no longer change");
  }
  return std::nullopt;
}

rejection wrong_status(const lead_state& state, std::string_view what) {
  return invalid_state(
      "status", "lead is " + std::string(to_string(state.status)) + "; " + std::string(what));
}

decision<lead_event> decide_create(const create_lead& c, const lead_state& state,
                                   const command_context& ctx) {
  if (state.exists) return already_exists("lead already exists");
  if (auto r = rules::check_id("id", c.lead.value)) return *r;
  if (auto r = rules::check_name("name", c.name)) return *r;
  if (auto r = check_email(c.email)) return *r;
  if (auto r = check_phone(c.phone)) return *r;
  if (auto r = check_line("company_name", c.company_name)) return *r;
  if (auto r = check_source(c.source)) return *r;
  const user_id owner = c.owner.value_or(ctx.actor);
  if (auto r = rules::check_id("owner_id", owner.value)) return *r;
  return lead_event{lead_created{c.lead, rules::trimmed(c.name), rules::normalized_email(c.email),
                                 rules::trimmed(c.phone), rules::trimmed(c.company_name), c.source,
                                 owner}};
}

decision<lead_event> decide_update(const update_lead& c, const lead_state& state) {
  if (auto r = require_workable(state)) return *r;
  if (c.name) {
    if (auto r = rules::check_name("name", *c.name)) return *r;
  }
  if (c.email) {
    if (auto r = check_email(*c.email)) return *r;
  }
  if (c.phone) {
    if (auto r = check_phone(*c.phone)) return *r;
  }
  if (c.company_name) {
    if (auto r = check_line("company_name", *c.company_name)) return *r;
  }
  if (c.source) {
    if (auto r = check_source(*c.source)) return *r;
  }
  auto changed = [](const std::optional<std::string>& requested, const std::string& current,
                    auto normalize) -> std::optional<std::string> {
    if (!requested) return std::nullopt;
    std::string value = normalize(*requested);
    if (value == current) return std::nullopt;
    return value;
  };
  auto trim = [](std::string_view s) { return rules::trimmed(s); };
  lead_updated e{state.id,
                 changed(c.name, state.name, trim),
                 changed(c.email, state.email, rules::normalized_email),
                 changed(c.phone, state.phone, trim),
                 changed(c.company_name, state.company_name, trim),
                 c.source && *c.source != state.source ? c.source : std::nullopt};
  if (!e.name && !e.email && !e.phone && !e.company_name && !e.source) return events{};
  return lead_event{std::move(e)};
}

decision<lead_event> decide_score(const score_lead& c, const lead_state& state) {
  if (auto r = require_workable(state)) return *r;
  if (c.score < 0 || c.score > kMaxLeadScore) {
    return invalid("score", "must be between 0 and " + std::to_string(kMaxLeadScore));
  }
  auto reason = rules::trimmed(c.reason);
  if (auto r = rules::check_text("reason", reason, kMaxScoreReasonLength)) return *r;
  if (auto r = rules::check_name("model", c.model, kMaxScoreModelLength)) return *r;
  auto model = rules::trimmed(c.model);
  if (state.score == c.score && state.score_reason == reason && state.score_model == model) {
    return events{};
  }
  return lead_event{lead_scored{state.id, c.score, std::move(reason), std::move(model)}};
}

decision<lead_event> decide_contacted(const lead_state& state, const command_context& ctx) {
  if (auto r = require_workable(state)) return *r;
  if (state.status == lead_status::contacted) return events{};
  if (state.status != lead_status::fresh) return wrong_status(state, "it was contacted already");
  return lead_event{lead_contacted{state.id, ctx.now}};
}

decision<lead_event> decide_qualify(const lead_state& state, const command_context& ctx) {
  if (auto r = require_workable(state)) return *r;
  if (state.status == lead_status::qualified) return events{};
  if (state.status == lead_status::fresh) {
    return wrong_status(state, "contact the lead before qualifying it");
  }
  if (state.status != lead_status::contacted) return wrong_status(state, "reopen it first");
  return lead_event{lead_qualified{state.id, ctx.now}};
}

decision<lead_event> decide_disqualify(const disqualify_lead& c, const lead_state& state,
                                       const command_context& ctx) {
  if (auto r = require_workable(state)) return *r;
  auto reason = rules::trimmed(c.reason);
  if (reason.empty()) return invalid("reason", "must not be empty");
  if (auto r = rules::check_text("reason", reason, kMaxDisqualifyReasonLength)) return *r;
  // The first reason stands: a second disqualification is a retry, not a new verdict.
  if (state.status == lead_status::disqualified) return events{};
  return lead_event{lead_disqualified{state.id, std::move(reason), ctx.now}};
}

decision<lead_event> decide_reopen(const lead_state& state, const command_context& ctx) {
  if (auto r = require_workable(state)) return *r;
  if (state.status != lead_status::disqualified) {
    return wrong_status(state, "only a disqualified lead can be reopened");
  }
  return lead_event{lead_reopened{state.id, ctx.now}};
}

decision<lead_event> decide_convert(const convert_lead& c, const lead_state& state,
                                    const command_context& ctx) {
  if (auto r = require_workable(state)) return *r;
  if (state.status != lead_status::qualified) {
    return wrong_status(state, "only a qualified lead can be converted");
  }
  if (auto r = rules::check_id("contact_id", c.contact.value)) return *r;
  if (c.company) {
    if (auto r = rules::check_id("company_id", c.company->value)) return *r;
  }
  if (c.deal) {
    if (auto r = rules::check_id("deal_id", c.deal->value)) return *r;
  }
  return lead_event{lead_converted{state.id, c.contact, c.company, c.deal, ctx.now}};
}

}  // namespace

decision<lead_event> decide(const lead_command& command, const lead_state& state,
                            const command_context& ctx) {
  return std::visit(overloaded{
                        [&](const create_lead& c) { return decide_create(c, state, ctx); },
                        [&](const update_lead& c) { return decide_update(c, state); },
                        [&](const assign_lead_owner& c) -> decision<lead_event> {
                          if (auto r = require_workable(state)) return *r;
                          if (auto r = rules::check_id("owner_id", c.owner.value)) return *r;
                          if (c.owner == state.owner) return events{};
                          return lead_event{lead_owner_assigned{state.id, state.owner, c.owner}};
                        },
                        [&](const score_lead& c) { return decide_score(c, state); },
                        [&](const mark_lead_contacted&) { return decide_contacted(state, ctx); },
                        [&](const qualify_lead&) { return decide_qualify(state, ctx); },
                        [&](const disqualify_lead& c) { return decide_disqualify(c, state, ctx); },
                        [&](const reopen_lead&) { return decide_reopen(state, ctx); },
                        [&](const convert_lead& c) { return decide_convert(c, state, ctx); },
                        [&](const erase_lead& c) -> decision<lead_event> {
                          if (!state.exists) return not_found("lead does not exist");
                          if (state.erased) {
                            return invalid_state("erased", "lead was erased already");
                          }
                          if (auto r = rules::check_erasure_reason(c.reason)) return *r;
                          return lead_event{lead_erased{state.id, rules::trimmed(c.reason)}};
                        },
                    },
                    command);
}

}  // namespace realmkit::domain

#include "domain/activity/activity_state.hpp"

namespace realmkit::domain {
namespace {

using namespace std::chrono;

using events = std::vector<activity_event>;

// Before 2000 no CRM record of ours existed; more than a year ahead is a mistyped year, not a
// planned meeting.
constexpr timestamp kEarliestOccurrence = sys_days{year{2000} / January / 1};
constexpr auto kLatestAhead = days{366};

std::optional<rejection> check_occurred_at(timestamp value, const command_context& ctx) {
  if (value == timestamp{}) return invalid("occurred_at", "is required");
  if (value < kEarliestOccurrence) {
    return invalid("occurred_at", "must not be before 2000-01-01");
  }
  if (value > ctx.now + kLatestAhead) {
    return invalid("occurred_at", "must not be more than a year ahead");
  }
  return std::nullopt;
}

std::optional<rejection> check_duration(activity_type type, const std::optional<int>& minutes) {
  if (!minutes) return std::nullopt;
  if (!has_duration(type)) {
    return invalid("duration_minutes", "only calls and meetings have a duration");
  }
  if (*minutes < 0 || *minutes > kMaxActivityDurationMinutes) {
    return invalid("duration_minutes",
                   "must be between 0 and " + std::to_string(kMaxActivityDurationMinutes));
  }
  return std::nullopt;
}

decision<activity_event> decide_log(const log_activity& c, const activity_state& state,
                                    const command_context& ctx) {
  if (state.exists) return already_exists("activity already exists");
  if (auto r = rules::check_id("id", c.activity.value)) return *r;
  if (to_string(c.type).empty())
    return invalid("type", "must be one of call, email, meeting, note, sms");
  if (auto r = check_entity_ref("subject", c.subject)) return *r;
  if (auto r = rules::check_name("summary", c.summary)) return *r;
  if (auto r = rules::check_text("body", c.body, kMaxActivityBodyLength)) return *r;
  if (auto r = check_occurred_at(c.occurred_at, ctx)) return *r;
  if (auto r = check_duration(c.type, c.duration_minutes)) return *r;
  const user_id owner = c.owner.value_or(ctx.actor);
  if (auto r = rules::check_id("owner_id", owner.value)) return *r;
  return activity_event{activity_logged{c.activity, c.type, c.subject, rules::trimmed(c.summary),
                                        c.body, c.occurred_at, c.duration_minutes, owner}};
}

decision<activity_event> decide_edit(const edit_activity& c, const activity_state& state,
                                     const command_context& ctx) {
  if (!state.exists) return not_found("activity does not exist");
  if (state.deleted) return invalid_state("deleted", "activity is deleted");
  activity_edited edited{state.id, state.summary, state.body, state.occurred_at,
                         state.duration_minutes};
  if (c.summary) {
    if (auto r = rules::check_name("summary", *c.summary)) return *r;
    edited.summary = rules::trimmed(*c.summary);
  }
  if (c.body) {
    if (auto r = rules::check_text("body", *c.body, kMaxActivityBodyLength)) return *r;
    edited.body = *c.body;
  }
  if (c.occurred_at) {
    if (auto r = check_occurred_at(*c.occurred_at, ctx)) return *r;
    edited.occurred_at = *c.occurred_at;
  }
  if (c.duration_minutes) {
    if (auto r = check_duration(state.type, c.duration_minutes)) return *r;
    edited.duration_minutes = c.duration_minutes;
  }
  if (edited.summary == state.summary && edited.body == state.body &&
      edited.occurred_at == state.occurred_at &&
      edited.duration_minutes == state.duration_minutes) {
    return events{};
  }
  return activity_event{std::move(edited)};
}

}  // namespace

decision<activity_event> decide(const activity_command& command, const activity_state& state,
                                const command_context& ctx) {
  return std::visit(overloaded{
                        [&](const log_activity& c) { return decide_log(c, state, ctx); },
                        [&](const edit_activity& c) { return decide_edit(c, state, ctx); },
                        [&](const delete_activity&) -> decision<activity_event> {
                          if (!state.exists) return not_found("activity does not exist");
                          if (state.deleted) return events{};
                          return activity_event{activity_deleted{state.id}};
                        },
                        [&](const relink_activity& c) -> decision<activity_event> {
                          if (!state.exists) return not_found("activity does not exist");
                          if (auto r = check_entity_ref("subject", c.to)) return *r;
                          if (c.from == c.to) {
                            return invalid("subject", "must differ from the record it leaves");
                          }
                          if (state.subject != c.from) return events{};
                          return activity_event{activity_relinked{state.id, c.from, c.to}};
                        },
                    },
                    command);
}

}  // namespace realmkit::domain

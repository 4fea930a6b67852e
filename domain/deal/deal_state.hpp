// The deal aggregate: its folded state, evolve and decide. Deciding needs the deal's pipeline,
// which lives in its own stream: the caller loads it (see pipeline_for) and passes it in.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "domain/deal/deal_commands.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/pipeline/pipeline_state.hpp"

namespace realmkit::domain {

enum class deal_status { open, won, lost };

constexpr std::string_view to_string(deal_status status) {
  switch (status) {
    case deal_status::open:
      return "open";
    case deal_status::won:
      return "won";
    case deal_status::lost:
      return "lost";
  }
  return {};
}

constexpr bool from_string(std::string_view text, deal_status& out) {
  return parse_enum(text, out, {deal_status::open, deal_status::won, deal_status::lost});
}

struct deal_state {
  bool exists = false;
  deal_id id;
  std::string title;
  money value;
  pipeline_id pipeline;
  stage_id stage;
  timestamp stage_entered_at{};
  user_id owner;
  std::optional<company_id> company;
  std::set<contact_id> contacts;
  std::optional<date> expected_close_date;
  deal_status status = deal_status::open;
  std::string lost_reason;             // empty unless lost
  std::optional<timestamp> closed_at;  // set while won or lost
  timestamp created_at{};
  bool archived = false;

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("title", self.title);
    v("value", self.value);
    v("pipeline_id", self.pipeline);
    v("stage_id", self.stage);
    v("stage_entered_at", self.stage_entered_at);
    v("owner_id", self.owner);
    v("company_id", self.company);
    v("contact_ids", self.contacts);
    v("expected_close_date", self.expected_close_date);
    v("status", self.status);
    v("lost_reason", self.lost_reason);
    v("closed_at", self.closed_at);
    v("created_at", self.created_at);
    v("archived", self.archived);
  }
};

inline constexpr std::size_t kMaxDealContacts = 100;
inline constexpr std::size_t kMaxLostReasonLength = 500;

// Whole days the deal has spent in its current stage at `now` (0 on the day it entered).
inline std::int64_t days_in_stage(const deal_state& state, timestamp now) {
  if (now < state.stage_entered_at) return 0;
  return std::chrono::floor<std::chrono::days>(now - state.stage_entered_at).count();
}

// The pipeline the caller must load before deciding: the one named by a create, the deal's own
// otherwise. Only create, move and reopen consult it; for the other commands an empty
// pipeline_state is fine.
pipeline_id pipeline_for(const deal_command& command, const deal_state& state);

deal_state evolve(deal_state state, const deal_event& event);
decision<deal_event> decide(const deal_command& command, const deal_state& state,
                            const pipeline_state& pipeline, const command_context& context);

struct deal_aggregate {
  using state = deal_state;
  using event = deal_event;
  using command = deal_command;
  static constexpr std::string_view kCategory = "deal";
};

}  // namespace realmkit::domain

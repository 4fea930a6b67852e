// What a rep should do next about an open deal that has no open task: a rule of thumb from the
// deal's stage, close date and how long nobody touched it, offered as a ready-made task title.
// Pure, like every rule of the domain: the caller brings the stage's probability, the time of the
// last activity on the deal and the time now.
#pragma once

#include <optional>
#include <string>

#include "domain/deal/deal_state.hpp"
#include "domain/pipeline/pipeline_events.hpp"

namespace realmkit::domain {

// Without an activity for this long a deal is going cold.
inline constexpr std::chrono::days kDealGoesCold{14};
// A close date this close calls for the decision.
inline constexpr std::chrono::days kDealClosingSoon{7};

struct next_step {
  // first_contact | re_engage | update_close_date | confirm_decision | discovery | proposal |
  // negotiate
  std::string action;
  std::string title;   // a task title the rep can accept as is
  std::string reason;  // why this step, in a sentence
  int days_due = 1;    // when the suggested task would be due, in days from now

  bool operator==(const next_step&) const = default;
};

// The step for an open deal in `stage`, last touched by an activity at `last_activity` (none
// yet: absent). The first rule that applies wins: a close date in the past, then silence, then
// a close date near, then the stage's probability.
next_step suggest_next_step(const deal_state& deal, const pipeline_stage& stage,
                            std::optional<timestamp> last_activity, timestamp now);

}  // namespace realmkit::domain

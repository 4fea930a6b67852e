#include "domain/deal/deal_next_step.hpp"

namespace realmkit::domain {

using namespace std::chrono;

next_step suggest_next_step(const deal_state& deal, const pipeline_stage& stage,
                            std::optional<timestamp> last_activity, timestamp now) {
  const auto today = floor<days>(now);
  if (deal.expected_close_date && *deal.expected_close_date < today) {
    const auto late = (today - *deal.expected_close_date).count();
    return {"update_close_date", "Agree a new close date for " + deal.title + ", or close it",
            "The expected close date passed " + std::to_string(late) + " day" +
                (late == 1 ? "" : "s") + " ago.",
            0};
  }
  if (!last_activity) {
    const auto age = duration_cast<days>(now - deal.created_at).count();
    return {"first_contact", "Make first contact about " + deal.title,
            "No call, e-mail or meeting is logged on this deal yet" +
                (age > 0 ? " (" + std::to_string(age) + " day" + (age == 1 ? "" : "s") + " old)."
                         : std::string(".")),
            0};
  }
  const auto silent = duration_cast<days>(now - *last_activity).count();
  if (days{silent} >= kDealGoesCold) {
    return {"re_engage", "Re-engage on " + deal.title + ": call or write",
            "Nothing logged for " + std::to_string(silent) + " days; the deal is going cold.", 1};
  }
  if (deal.expected_close_date && *deal.expected_close_date - today <= kDealClosingSoon) {
    const auto left = (*deal.expected_close_date - today).count();
    return {"confirm_decision", "Confirm the decision and the paperwork for " + deal.title,
            "It is expected to close " +
                (left == 0 ? std::string("today")
                           : "in " + std::to_string(left) + " day" + (left == 1 ? "" : "s")) +
                ".",
            left == 0 ? 0 : 1};
  }
  if (stage.probability < 30) {
    return {"discovery", "Schedule a discovery call for " + deal.title,
            "In " + stage.name + " (" + std::to_string(stage.probability) +
                "%): needs, budget and decision makers come first.",
            2};
  }
  if (stage.probability < 60) {
    return {"proposal", "Send a proposal for " + deal.title,
            "In " + stage.name + " (" + std::to_string(stage.probability) +
                "%): a written offer moves it forward.",
            2};
  }
  return {"negotiate", "Agree terms for " + deal.title,
          "In " + stage.name + " (" + std::to_string(stage.probability) +
              "%): close the remaining questions.",
          2};
}

}  // namespace realmkit::domain

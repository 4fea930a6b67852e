// The lead aggregate: its folded state, evolve and decide.
//
// Status flow: new → contacted → qualified → converted. Disqualifying is possible from new,
// contacted and qualified (spam need not be "contacted" first); only reopening leaves
// disqualified, back to contacted. Qualifying needs a contacted lead: qualification is what a
// conversation establishes. A converted lead is read-only, like in most CRMs: its contact,
// company and deal carry on.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/lead/lead_commands.hpp"
#include "domain/lead/lead_events.hpp"

namespace realmkit::domain {

struct lead_state {
  bool exists = false;
  lead_id id;
  std::string name;
  std::string email;
  std::string phone;
  std::string company_name;
  lead_source source = lead_source::other;
  user_id owner;
  lead_status status = lead_status::fresh;
  std::string disqualified_reason;  // empty unless disqualified
  std::optional<int> score;         // none until scored
  std::string score_reason;
  std::string score_model;
  std::optional<contact_id> converted_contact;  // set once converted
  std::optional<company_id> converted_company;
  std::optional<deal_id> converted_deal;
  std::optional<timestamp> converted_at;
  bool erased = false;  // its personal fields are gone for good

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("name", self.name);
    v("email", self.email);
    v("phone", self.phone);
    v("company_name", self.company_name);
    v("source", self.source);
    v("owner_id", self.owner);
    v("status", self.status);
    v("disqualified_reason", self.disqualified_reason);
    v("score", self.score);
    v("score_reason", self.score_reason);
    v("score_model", self.score_model);
    v("converted_contact_id", self.converted_contact);
    v("converted_company_id", self.converted_company);
    v("converted_deal_id", self.converted_deal);
    v("converted_at", self.converted_at);
    v("erased", self.erased);
  }
};

inline constexpr int kMaxLeadScore = 100;
inline constexpr std::size_t kMaxDisqualifyReasonLength = 500;
inline constexpr std::size_t kMaxScoreReasonLength = 1000;
inline constexpr std::size_t kMaxScoreModelLength = 100;

lead_state evolve(lead_state state, const lead_event& event);
decision<lead_event> decide(const lead_command& command, const lead_state& state,
                            const command_context& context);

struct lead_aggregate {
  using state = lead_state;
  using event = lead_event;
  using command = lead_command;
  static constexpr std::string_view kCategory = "lead";
};

}  // namespace realmkit::domain

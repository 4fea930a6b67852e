// given(events).when(command).then(events | rejection) for pure deciders: no database, no clock.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/support/describe_print.hpp"

namespace realmkit::testing {

inline domain::command_context test_context() {
  using namespace std::chrono;
  return {
      domain::user_id{"user-actor"},
      domain::timestamp{duration_cast<microseconds>(sys_days{2026y / 11 / 27}.time_since_epoch())}};
}

// Aggregate is one of the *_aggregate traits; Decide is the decide callable, so aggregates whose
// decide needs extra context (a deal needs its pipeline) bind it in a lambda.
template <class Aggregate>
class decider_spec {
 public:
  using state_type = typename Aggregate::state;
  using event_type = typename Aggregate::event;
  using command_type = typename Aggregate::command;
  using decide_fn =
      std::function<domain::decision<event_type>(const command_type&, const state_type&)>;

  explicit decider_spec(decide_fn decide) : decide_(std::move(decide)) {}

  decider_spec& given(std::vector<event_type> events) {
    given_ = std::move(events);
    return *this;
  }
  decider_spec& when(command_type command) {
    command_ = std::move(command);
    return *this;
  }

  state_type state() const {
    state_type s{};
    for (const auto& e : given_) s = evolve(std::move(s), e);
    return s;
  }

  // The command is accepted and yields exactly these events (none for a no-op).
  void then(const std::vector<event_type>& expected) const {
    auto d = decide_(command_, state());
    if (!d.ok()) {
      FAIL_CHECK("rejected: " << to_string(d.error().code) << " " << d.error().field << ": "
                              << d.error().reason);
      return;
    }
    CHECK_MESSAGE(d.events() == expected, "got " << to_debug_string(d.events()) << "\nexpected "
                                                 << to_debug_string(expected));
    // Every decided event must fold without surprise.
    auto s = state();
    for (const auto& e : d.events()) s = evolve(std::move(s), e);
  }

  // The command is refused with this code on this field.
  void then_rejected(domain::rejection_code code, const std::string& field) const {
    auto d = decide_(command_, state());
    if (d.ok()) {
      FAIL_CHECK("accepted, expected rejection of " << field
                                                    << "; events: " << to_debug_string(d.events()));
      return;
    }
    CHECK_MESSAGE(d.error().code == code,
                  "code " << to_string(d.error().code) << " (" << d.error().reason << ")");
    CHECK_MESSAGE(d.error().field == field,
                  "field '" << d.error().field << "' (" << d.error().reason << ")");
    CHECK_FALSE(d.error().reason.empty());
  }

 private:
  decide_fn decide_;
  std::vector<event_type> given_;
  command_type command_{};
};

}  // namespace realmkit::testing

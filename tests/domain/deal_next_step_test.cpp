#include "domain/deal/deal_next_step.hpp"

#include <doctest/doctest.h>

#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using namespace std::chrono;
using realmkit::testing::test_context;

namespace {

const timestamp kNow = test_context().now;

deal_state open_deal() {
  deal_state d;
  d.exists = true;
  d.id = deal_id{"d1"};
  d.title = "Acme renewal";
  d.created_at = kNow - days{3};
  return d;
}

pipeline_stage stage(int probability) {
  return pipeline_stage{stage_id{"s"}, "Stage " + std::to_string(probability), probability};
}

}  // namespace

TEST_SUITE("deal next step") {
  TEST_CASE("a deal nobody has touched needs first contact") {
    const auto s = suggest_next_step(open_deal(), stage(10), std::nullopt, kNow);
    CHECK(s.action == "first_contact");
    CHECK(s.title == "Make first contact about Acme renewal");
    CHECK(s.reason.find("3 days old") != std::string::npos);
    CHECK(s.days_due == 0);
  }

  TEST_CASE("a passed close date comes first, then silence, then a close date near") {
    auto d = open_deal();
    d.expected_close_date = floor<days>(kNow) - days{2};
    auto s = suggest_next_step(d, stage(80), kNow - days{30}, kNow);
    CHECK(s.action == "update_close_date");
    CHECK(s.reason == "The expected close date passed 2 days ago.");

    d.expected_close_date = floor<days>(kNow) + days{3};
    s = suggest_next_step(d, stage(80), kNow - days{20}, kNow);
    CHECK(s.action == "re_engage");
    CHECK(s.reason.find("20 days") != std::string::npos);

    s = suggest_next_step(d, stage(80), kNow - days{1}, kNow);
    CHECK(s.action == "confirm_decision");
    CHECK(s.reason == "It is expected to close in 3 days.");
    d.expected_close_date = floor<days>(kNow);
    CHECK(suggest_next_step(d, stage(80), kNow - days{1}, kNow).reason ==
          "It is expected to close today.");
  }

  TEST_CASE("otherwise the stage's probability decides") {
    const auto recent = kNow - days{2};
    CHECK(suggest_next_step(open_deal(), stage(10), recent, kNow).action == "discovery");
    CHECK(suggest_next_step(open_deal(), stage(29), recent, kNow).action == "discovery");
    CHECK(suggest_next_step(open_deal(), stage(30), recent, kNow).action == "proposal");
    CHECK(suggest_next_step(open_deal(), stage(60), recent, kNow).action == "negotiate");
    CHECK(suggest_next_step(open_deal(), stage(60), recent, kNow).reason ==
          "In Stage 60 (60%): close the remaining questions.");
    // Silence just under the threshold is not cold yet.
    CHECK(suggest_next_step(open_deal(), stage(60), kNow - kDealGoesCold + hours{1}, kNow).action ==
          "negotiate");
  }
}

#include "domain/lead/lead_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

decider_spec<lead_aggregate> spec() {
  return decider_spec<lead_aggregate>(
      [](const lead_command& c, const lead_state& s) { return decide(c, s, test_context()); });
}

const lead_id kLead{"l1"};
const user_id kActor = test_context().actor;
const user_id kOwner{"u9"};
const timestamp kNow = test_context().now;
const contact_id kContact{"k1"};
const company_id kCompany{"c1"};
const deal_id kDeal{"d1"};

lead_event created() {
  return lead_created{
      kLead, "Grace Hopper", "grace@navy.mil", "+1 555 0100", "US Navy", lead_source::web, kActor};
}

std::vector<lead_event> contacted() {
  return {created(), lead_contacted{kLead, kNow}};
}

std::vector<lead_event> qualified() {
  return {created(), lead_contacted{kLead, kNow}, lead_qualified{kLead, kNow}};
}

std::vector<lead_event> disqualified() {
  return {created(), lead_disqualified{kLead, "no budget", kNow}};
}

std::vector<lead_event> converted() {
  auto events = qualified();
  events.push_back(lead_converted{kLead, kContact, kCompany, kDeal, kNow});
  return events;
}

update_lead update() {
  return update_lead{kLead, {}, {}, {}, {}, {}};
}

}  // namespace

TEST_SUITE("lead") {
  TEST_CASE("sources and statuses have stable wire names that read back") {
    for (auto source :
         {lead_source::web, lead_source::referral, lead_source::event, lead_source::cold_call,
          lead_source::advertisement, lead_source::partner, lead_source::other}) {
      lead_source back = lead_source::other;
      CHECK_FALSE(to_string(source).empty());
      CHECK(from_string(to_string(source), back));
      CHECK(back == source);
    }
    for (auto status : {lead_status::fresh, lead_status::contacted, lead_status::qualified,
                        lead_status::disqualified, lead_status::converted}) {
      lead_status back = lead_status::converted;
      CHECK_FALSE(to_string(status).empty());
      CHECK(from_string(to_string(status), back));
      CHECK(back == status);
    }
    CHECK(to_string(lead_status::fresh) == "new");
    lead_source source = lead_source::partner;
    CHECK_FALSE(from_string("tv", source));
    CHECK(source == lead_source::partner);
    lead_status status = lead_status::qualified;
    CHECK_FALSE(from_string("fresh", status));
    CHECK(status == lead_status::qualified);
  }

  TEST_CASE("creating a lead normalizes it and defaults the owner to the actor") {
    spec()
        .when(create_lead{kLead, " Grace Hopper ", " Grace@Navy.MIL", "+1 555 0100 ", " US Navy",
                          lead_source::web, std::nullopt})
        .then({created()});
    spec()
        .when(create_lead{kLead, "Grace", "", "", "", lead_source::event, kOwner})
        .then({lead_created{kLead, "Grace", "", "", "", lead_source::event, kOwner}});
  }

  TEST_CASE("creation validates every field and names it") {
    const create_lead good{kLead,     "Grace",          "grace@navy.mil", "+1 555 0100",
                           "US Navy", lead_source::web, std::nullopt};
    auto rejected = [](create_lead c, const std::string& field) {
      spec().when(std::move(c)).then_rejected(rejection_code::invalid, field);
    };
    auto c = good;
    c.lead = lead_id{"l/1"};
    rejected(c, "id");
    c = good;
    c.name = "";
    rejected(c, "name");
    c = good;
    c.email = "grace@";
    rejected(c, "email");
    c = good;
    c.phone = "ext. 5";
    rejected(c, "phone");
    c = good;
    c.company_name = std::string(201, 'c');
    rejected(c, "company_name");
    c = good;
    c.source = static_cast<lead_source>(12);
    rejected(c, "source");
    c = good;
    c.owner = user_id{"a b"};
    rejected(c, "owner_id");
  }

  TEST_CASE("a lead is created once") {
    spec()
        .given({created()})
        .when(create_lead{kLead, "Grace", "", "", "", lead_source::web, std::nullopt})
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("commands on a missing lead are not found") {
    for (lead_command c : std::vector<lead_command>{
             update(), assign_lead_owner{kLead, kOwner}, mark_lead_contacted{kLead},
             qualify_lead{kLead}, disqualify_lead{kLead, "spam"}, reopen_lead{kLead},
             score_lead{kLead, 50, "", "manual"}, convert_lead{kLead, kContact, {}, {}}}) {
      spec().when(c).then_rejected(rejection_code::not_found, "");
    }
  }

  TEST_CASE("an update records only what changed, and clears with an empty string") {
    auto c = update();
    c.name = "Grace Hopper ";
    c.email = "GRACE@navy.mil";
    c.phone = "";
    c.company_name = "Navy";
    c.source = lead_source::web;
    spec()
        .given({created()})
        .when(c)
        .then({lead_updated{kLead, std::nullopt, std::nullopt, "", "Navy", std::nullopt}});
    c = update();
    c.email = "amazing.grace@navy.mil";
    c.source = lead_source::referral;
    spec()
        .given({created()})
        .when(c)
        .then({lead_updated{kLead, std::nullopt, "amazing.grace@navy.mil", std::nullopt,
                            std::nullopt, lead_source::referral}});
    spec().given({created()}).when(update()).then({});
  }

  TEST_CASE("an update validates every field it names; the name cannot be cleared") {
    auto rejected = [](update_lead c, const std::string& field) {
      spec().given({created()}).when(std::move(c)).then_rejected(rejection_code::invalid, field);
    };
    auto c = update();
    c.name = " ";
    rejected(c, "name");
    c = update();
    c.email = "nope";
    rejected(c, "email");
    c = update();
    c.phone = "+";
    rejected(c, "phone");
    c = update();
    c.company_name = "a\x03";
    rejected(c, "company_name");
    c = update();
    c.source = static_cast<lead_source>(-1);
    rejected(c, "source");
  }

  TEST_CASE("assigning the owner records from and to; the same owner is a no-op") {
    spec()
        .given({created()})
        .when(assign_lead_owner{kLead, kOwner})
        .then({lead_owner_assigned{kLead, kActor, kOwner}});
    spec().given({created()}).when(assign_lead_owner{kLead, kActor}).then({});
    spec()
        .given({created()})
        .when(assign_lead_owner{kLead, user_id{""}})
        .then_rejected(rejection_code::invalid, "owner_id");
  }

  TEST_CASE("a new lead is contacted, then qualified") {
    spec().given({created()}).when(mark_lead_contacted{kLead}).then({lead_contacted{kLead, kNow}});
    spec().given(contacted()).when(mark_lead_contacted{kLead}).then({});
    spec().given(contacted()).when(qualify_lead{kLead}).then({lead_qualified{kLead, kNow}});
    spec().given(qualified()).when(qualify_lead{kLead}).then({});
  }

  TEST_CASE("a lead is qualified only after it was contacted, and never contacted again") {
    spec()
        .given({created()})
        .when(qualify_lead{kLead})
        .then_rejected(rejection_code::invalid_state, "status");
    spec()
        .given(qualified())
        .when(mark_lead_contacted{kLead})
        .then_rejected(rejection_code::invalid_state, "status");
  }

  TEST_CASE("a lead can be disqualified from new, contacted or qualified, with a reason") {
    for (const auto& given : {std::vector<lead_event>{created()}, contacted(), qualified()}) {
      spec()
          .given(given)
          .when(disqualify_lead{kLead, " no budget "})
          .then({lead_disqualified{kLead, "no budget", kNow}});
    }
    spec()
        .given({created()})
        .when(disqualify_lead{kLead, "  "})
        .then_rejected(rejection_code::invalid, "reason");
    spec()
        .given({created()})
        .when(disqualify_lead{kLead, std::string(501, 'r')})
        .then_rejected(rejection_code::invalid, "reason");
    spec().given(disqualified()).when(disqualify_lead{kLead, "other reason"}).then({});
  }

  TEST_CASE("a disqualified lead changes status only by reopening, back to contacted") {
    spec()
        .given(disqualified())
        .when(mark_lead_contacted{kLead})
        .then_rejected(rejection_code::invalid_state, "status");
    spec()
        .given(disqualified())
        .when(qualify_lead{kLead})
        .then_rejected(rejection_code::invalid_state, "status");
    spec()
        .given(disqualified())
        .when(convert_lead{kLead, kContact, {}, {}})
        .then_rejected(rejection_code::invalid_state, "status");
    spec().given(disqualified()).when(reopen_lead{kLead}).then({lead_reopened{kLead, kNow}});
    auto events = disqualified();
    events.push_back(lead_reopened{kLead, kNow});
    spec().given(events).when(qualify_lead{kLead}).then({lead_qualified{kLead, kNow}});
  }

  TEST_CASE("only a disqualified lead can be reopened") {
    for (const auto& given : {std::vector<lead_event>{created()}, contacted(), qualified()}) {
      spec()
          .given(given)
          .when(reopen_lead{kLead})
          .then_rejected(rejection_code::invalid_state, "status");
    }
  }

  TEST_CASE("only a qualified lead is converted, with the ids it was given") {
    spec()
        .given(qualified())
        .when(convert_lead{kLead, kContact, kCompany, kDeal})
        .then({lead_converted{kLead, kContact, kCompany, kDeal, kNow}});
    spec()
        .given(qualified())
        .when(convert_lead{kLead, kContact, std::nullopt, std::nullopt})
        .then({lead_converted{kLead, kContact, std::nullopt, std::nullopt, kNow}});
    for (const auto& given : {std::vector<lead_event>{created()}, contacted()}) {
      spec()
          .given(given)
          .when(convert_lead{kLead, kContact, {}, {}})
          .then_rejected(rejection_code::invalid_state, "status");
    }
  }

  TEST_CASE("conversion validates the ids it records") {
    spec()
        .given(qualified())
        .when(convert_lead{kLead, contact_id{""}, {}, {}})
        .then_rejected(rejection_code::invalid, "contact_id");
    spec()
        .given(qualified())
        .when(convert_lead{kLead, kContact, company_id{"c 1"}, {}})
        .then_rejected(rejection_code::invalid, "company_id");
    spec()
        .given(qualified())
        .when(convert_lead{kLead, kContact, kCompany, deal_id{"d#1"}})
        .then_rejected(rejection_code::invalid, "deal_id");
  }

  TEST_CASE("a converted lead is converted once and then refuses every command") {
    auto u = update();
    u.name = "Amazing Grace";
    for (lead_command c : std::vector<lead_command>{
             u, assign_lead_owner{kLead, kOwner}, mark_lead_contacted{kLead}, qualify_lead{kLead},
             disqualify_lead{kLead, "spam"}, reopen_lead{kLead},
             score_lead{kLead, 50, "", "manual"}, convert_lead{kLead, contact_id{"k2"}, {}, {}}}) {
      spec().given(converted()).when(c).then_rejected(rejection_code::invalid_state, "status");
    }
  }

  TEST_CASE("scoring records the score with its reason and model") {
    spec()
        .given({created()})
        .when(score_lead{kLead, 87, " Opened 5 e-mails ", " rules-v3 "})
        .then({lead_scored{kLead, 87, "Opened 5 e-mails", "rules-v3"}});
    spec()
        .given({created()})
        .when(score_lead{kLead, 0, "", "manual"})
        .then({lead_scored{kLead, 0, "", "manual"}});
    // Disqualified leads are still scored: a model may be why they come back.
    spec()
        .given(disqualified())
        .when(score_lead{kLead, 100, "", "manual"})
        .then({lead_scored{kLead, 100, "", "manual"}});
  }

  TEST_CASE("the same score from the same model for the same reason is a no-op") {
    const std::vector<lead_event> given{created(), lead_scored{kLead, 60, "fit", "rules-v3"}};
    spec().given(given).when(score_lead{kLead, 60, "fit ", "rules-v3"}).then({});
    spec()
        .given(given)
        .when(score_lead{kLead, 60, "fit", "ml-2026-11"})
        .then({lead_scored{kLead, 60, "fit", "ml-2026-11"}});
    spec()
        .given(given)
        .when(score_lead{kLead, 60, "fit, and asked for a demo", "rules-v3"})
        .then({lead_scored{kLead, 60, "fit, and asked for a demo", "rules-v3"}});
    spec()
        .given(given)
        .when(score_lead{kLead, 61, "fit", "rules-v3"})
        .then({lead_scored{kLead, 61, "fit", "rules-v3"}});
  }

  TEST_CASE("a score lies between 0 and 100 and names its model") {
    for (int score : {-1, 101}) {
      spec()
          .given({created()})
          .when(score_lead{kLead, score, "", "manual"})
          .then_rejected(rejection_code::invalid, "score");
    }
    spec()
        .given({created()})
        .when(score_lead{kLead, 50, "", " "})
        .then_rejected(rejection_code::invalid, "model");
    spec()
        .given({created()})
        .when(score_lead{kLead, 50, std::string(1001, 'r'), "manual"})
        .then_rejected(rejection_code::invalid, "reason");
  }

  TEST_CASE("every event folds into the state") {
    auto s = spec();
    s.given({created()});
    auto st = s.state();
    CHECK(st.exists);
    CHECK(st.id == kLead);
    CHECK(st.name == "Grace Hopper");
    CHECK(st.email == "grace@navy.mil");
    CHECK(st.phone == "+1 555 0100");
    CHECK(st.company_name == "US Navy");
    CHECK(st.source == lead_source::web);
    CHECK(st.owner == kActor);
    CHECK(st.status == lead_status::fresh);
    CHECK_FALSE(st.score.has_value());
    CHECK_FALSE(st.converted_contact.has_value());

    s.given({created(),
             lead_updated{kLead, "Rear Adm. Hopper", "", "+1 555 0199", "", lead_source::referral},
             lead_owner_assigned{kLead, kActor, kOwner}, lead_scored{kLead, 70, "fit", "manual"},
             lead_disqualified{kLead, "no budget", kNow}});
    st = s.state();
    CHECK(st.name == "Rear Adm. Hopper");
    CHECK(st.email.empty());
    CHECK(st.phone == "+1 555 0199");
    CHECK(st.company_name.empty());
    CHECK(st.source == lead_source::referral);
    CHECK(st.owner == kOwner);
    CHECK(st.score == 70);
    CHECK(st.score_reason == "fit");
    CHECK(st.score_model == "manual");
    CHECK(st.status == lead_status::disqualified);
    CHECK(st.disqualified_reason == "no budget");

    s.given({created(), lead_disqualified{kLead, "no budget", kNow}, lead_reopened{kLead, kNow}});
    CHECK(s.state().status == lead_status::contacted);
    CHECK(s.state().disqualified_reason.empty());

    s.given(converted());
    st = s.state();
    CHECK(st.status == lead_status::converted);
    CHECK(st.converted_contact == kContact);
    CHECK(st.converted_company == kCompany);
    CHECK(st.converted_deal == kDeal);
    CHECK(st.converted_at == kNow);
  }

  TEST_CASE("erasure: needs a reason, happens once, clears the personal fields and ends changes") {
    spec()
        .given({created()})
        .when(erase_lead{kLead, ""})
        .then_rejected(rejection_code::invalid, "reason");
    spec().when(erase_lead{kLead, "request 17"}).then_rejected(rejection_code::not_found, "");
    spec()
        .given({created()})
        .when(erase_lead{kLead, "request 17"})
        .then({lead_erased{kLead, "request 17"}});
    // A converted lead still holds the person's data in its own events.
    spec()
        .given(converted())
        .when(erase_lead{kLead, "request 17"})
        .then({lead_erased{kLead, "request 17"}});
    const std::vector<lead_event> erased{created(), lead_erased{kLead, "request 17"}};
    spec()
        .given(erased)
        .when(erase_lead{kLead, "again"})
        .then_rejected(rejection_code::invalid_state, "erased");
    spec().given(erased).when(update()).then_rejected(rejection_code::invalid_state, "erased");
    lead_state s;
    for (const auto& e : erased) s = evolve(std::move(s), e);
    CHECK(s.erased);
    CHECK(s.name.empty());
    CHECK(s.email.empty());
    CHECK(s.phone.empty());
    CHECK(s.company_name == "US Navy");
  }
}

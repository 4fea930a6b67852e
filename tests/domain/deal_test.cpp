#include <string>

#include "domain/deal/deal_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using namespace std::chrono;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

const pipeline_id kPipeline{"p1"};
const stage_id kLead{"s1"};
const stage_id kProposal{"s2"};
const stage_id kNegotiation{"s3"};
const deal_id kDeal{"d1"};
const user_id kAlice{"alice"};
const user_id kBob{"bob"};
const company_id kAcme{"acme"};
const company_id kGlobex{"globex"};
const contact_id kCarol{"carol"};
const contact_id kDave{"dave"};
const timestamp kNow = test_context().now;
const timestamp kEarlier = sys_days{2026y / November / 1};
const date kCloseDate = 2026y / December / 31;

pipeline_event sales_created() {
  return pipeline_created{
      kPipeline,
      "Sales",
      {{kLead, "Lead", 10}, {kProposal, "Proposal", 50}, {kNegotiation, "Negotiation", 80}}};
}

pipeline_state pipeline_of(std::vector<pipeline_event> events) {
  pipeline_state p;
  for (const auto& e : events) p = evolve(std::move(p), e);
  return p;
}

pipeline_state sales_pipeline() {
  return pipeline_of({sales_created()});
}

decider_spec<deal_aggregate> spec(pipeline_state pipeline = sales_pipeline()) {
  return decider_spec<deal_aggregate>(
      [pipeline = std::move(pipeline)](const deal_command& c, const deal_state& s) {
        return decide(c, s, pipeline, test_context());
      });
}

const money kTenK{1'000'000, "EUR"};

deal_event created() {
  return deal_created{kDeal,  kPipeline,    kLead, "Acme renewal", kTenK,
                      kAlice, std::nullopt, {},    std::nullopt,   kEarlier};
}

create_deal create_command() {
  return create_deal{kDeal,        kPipeline,    kLead, "Acme renewal", kTenK,
                     std::nullopt, std::nullopt, {},    std::nullopt};
}

deal_state fold(const std::vector<deal_event>& events) {
  deal_state s;
  for (const auto& e : events) s = evolve(std::move(s), e);
  return s;
}

// One of every command that addresses an existing deal.
std::vector<deal_command> commands_on_existing_deal() {
  return {rename_deal{kDeal, "New"},
          change_deal_value{kDeal, {5, "EUR"}},
          move_deal_stage{kDeal, kProposal},
          assign_deal_owner{kDeal, kBob},
          link_deal_company{kDeal, kAcme},
          unlink_deal_company{kDeal},
          link_deal_contact{kDeal, kCarol},
          unlink_deal_contact{kDeal, kCarol},
          change_deal_close_date{kDeal, kCloseDate},
          win_deal{kDeal},
          lose_deal{kDeal, "Price"},
          reopen_deal{kDeal, std::nullopt},
          archive_deal{kDeal},
          restore_deal{kDeal}};
}

}  // namespace

TEST_SUITE("deal") {
  TEST_CASE("creating a deal records it in its first stage, entered now, owned by the actor") {
    auto c = create_command();
    c.title = "  Acme renewal ";
    c.contacts = {kDave, kCarol, kDave};
    c.company = kAcme;
    c.expected_close_date = kCloseDate;
    spec().when(c).then({deal_created{kDeal,
                                      kPipeline,
                                      kLead,
                                      "Acme renewal",
                                      kTenK,
                                      test_context().actor,
                                      kAcme,
                                      {kCarol, kDave},
                                      kCloseDate,
                                      kNow}});
  }

  TEST_CASE("a deal may be created for another owner, in any stage") {
    auto c = create_command();
    c.owner = kBob;
    c.stage = kNegotiation;
    spec().when(c).then({deal_created{kDeal,
                                      kPipeline,
                                      kNegotiation,
                                      "Acme renewal",
                                      kTenK,
                                      kBob,
                                      std::nullopt,
                                      {},
                                      std::nullopt,
                                      kNow}});
  }

  TEST_CASE("a deal is created once") {
    spec()
        .given({created()})
        .when(create_command())
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("a deal needs a well-formed id, title and value") {
    auto c = create_command();
    c.deal = deal_id{"bad id!"};
    spec().when(c).then_rejected(rejection_code::invalid, "id");
    c = create_command();
    c.title = " \t ";
    spec().when(c).then_rejected(rejection_code::invalid, "title");
    c.title = std::string(201, 'x');
    spec().when(c).then_rejected(rejection_code::invalid, "title");
    c.title = std::string(200, 'x');
    spec().when(c).then({deal_created{kDeal,
                                      kPipeline,
                                      kLead,
                                      std::string(200, 'x'),
                                      kTenK,
                                      test_context().actor,
                                      std::nullopt,
                                      {},
                                      std::nullopt,
                                      kNow}});
    c = create_command();
    c.value = {-1, "EUR"};
    spec().when(c).then_rejected(rejection_code::invalid, "value.amount_minor");
    c.value = {100, "XYZ"};
    spec().when(c).then_rejected(rejection_code::invalid, "value.currency");
    c.value = {100, ""};
    spec().when(c).then_rejected(rejection_code::invalid, "value.currency");
  }

  TEST_CASE("a zero value is a valid deal value") {
    auto c = create_command();
    c.value = {0, "JPY"};
    spec().when(c).then({deal_created{kDeal,
                                      kPipeline,
                                      kLead,
                                      "Acme renewal",
                                      {0, "JPY"},
                                      test_context().actor,
                                      std::nullopt,
                                      {},
                                      std::nullopt,
                                      kNow}});
  }

  TEST_CASE("a deal is created in a stage of a live pipeline") {
    auto c = create_command();
    c.stage = stage_id{"elsewhere"};
    spec().when(c).then_rejected(rejection_code::invalid, "stage_id");
    spec(pipeline_state{})
        .when(create_command())
        .then_rejected(rejection_code::invalid, "pipeline_id");
    c = create_command();
    c.pipeline = pipeline_id{"p2"};  // the caller loaded p1, the command names p2
    spec().when(c).then_rejected(rejection_code::invalid, "pipeline_id");
    c.pipeline = pipeline_id{""};
    spec().when(c).then_rejected(rejection_code::invalid, "pipeline_id");
    spec(pipeline_of({sales_created(), pipeline_archived{kPipeline}}))
        .when(create_command())
        .then_rejected(rejection_code::invalid_state, "pipeline_id");
  }

  TEST_CASE("owner, company and contact ids must be well-formed") {
    auto c = create_command();
    c.owner = user_id{""};
    spec().when(c).then_rejected(rejection_code::invalid, "owner_id");
    c = create_command();
    c.company = company_id{"a b"};
    spec().when(c).then_rejected(rejection_code::invalid, "company_id");
    c = create_command();
    c.contacts = {kCarol, contact_id{"x/y"}};
    spec().when(c).then_rejected(rejection_code::invalid, "contact_ids/1");
  }

  TEST_CASE("a deal links at most 100 distinct contacts at creation") {
    auto c = create_command();
    for (int i = 0; i < 100; ++i) c.contacts.push_back(contact_id{"c" + std::to_string(i)});
    c.contacts.push_back(contact_id{"c7"});  // a duplicate does not count
    auto d = decide(deal_command{c}, deal_state{}, sales_pipeline(), test_context());
    REQUIRE(d.ok());
    CHECK(std::get<deal_created>(d.events().at(0)).contacts.size() == 100);
    c.contacts.push_back(contact_id{"c100"});
    spec().when(c).then_rejected(rejection_code::invalid, "contact_ids");
  }

  TEST_CASE("the expected close date must be plausible") {
    auto c = create_command();
    c.expected_close_date = date{1999y / December / 31};
    spec().when(c).then_rejected(rejection_code::invalid, "expected_close_date");
    c.expected_close_date = date{2200y / January / 1};
    spec().when(c).then_rejected(rejection_code::invalid, "expected_close_date");
    c.expected_close_date = date{2000y / January / 1};
    spec().when(c).then({deal_created{kDeal,
                                      kPipeline,
                                      kLead,
                                      "Acme renewal",
                                      kTenK,
                                      test_context().actor,
                                      std::nullopt,
                                      {},
                                      date{2000y / January / 1},
                                      kNow}});
  }

  TEST_CASE("relinking replaces a merged contact by its survivor, on any deal, once") {
    const contact_id survivor{"erin"};
    auto with_carol = std::get<deal_created>(created());
    with_carol.contacts = {kCarol, kDave};
    spec()
        .given({with_carol})
        .when(relink_deal_contact{kDeal, kCarol, survivor})
        .then({deal_contact_relinked{kDeal, kCarol, survivor}});
    // Closed and archived deals follow too: a reference is corrected, no sale is changed.
    spec()
        .given({with_carol, deal_lost{kDeal, "Price", kNow}, deal_archived{kDeal}})
        .when(relink_deal_contact{kDeal, kCarol, survivor})
        .then({deal_contact_relinked{kDeal, kCarol, survivor}});
    spec()
        .given({with_carol, deal_contact_relinked{kDeal, kCarol, survivor}})
        .when(relink_deal_contact{kDeal, kCarol, survivor})
        .then({});
    spec()
        .given({with_carol})
        .when(relink_deal_contact{kDeal, kCarol, kCarol})
        .then_rejected(rejection_code::invalid, "contact_id");
    spec()
        .when(relink_deal_contact{kDeal, kCarol, survivor})
        .then_rejected(rejection_code::not_found, "");
    // A deal naming both the duplicate and the survivor names the survivor once.
    const auto both = fold({with_carol, deal_contact_relinked{kDeal, kCarol, kDave}});
    CHECK(both.contacts == std::set<contact_id>{kDave});
    const auto moved = fold({with_carol, deal_contact_relinked{kDeal, kCarol, survivor}});
    CHECK(moved.contacts == std::set<contact_id>{kDave, survivor});
  }

  TEST_CASE("commands on a missing deal are not found") {
    for (const auto& command : commands_on_existing_deal()) {
      CAPTURE(command.index());
      spec().when(command).then_rejected(rejection_code::not_found, "");
    }
  }

  TEST_CASE("an archived deal refuses every change until restored") {
    for (const auto& command : commands_on_existing_deal()) {
      if (std::holds_alternative<archive_deal>(command) ||
          std::holds_alternative<restore_deal>(command)) {
        continue;
      }
      CAPTURE(command.index());
      spec()
          .given({created(), deal_archived{kDeal}})
          .when(command)
          .then_rejected(rejection_code::invalid_state, "archived");
    }
    spec()
        .given({created(), deal_archived{kDeal}})
        .when(create_command())
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("archiving and restoring are idempotent") {
    spec().given({created()}).when(archive_deal{kDeal}).then({deal_archived{kDeal}});
    spec().given({created(), deal_archived{kDeal}}).when(archive_deal{kDeal}).then({});
    spec()
        .given({created(), deal_archived{kDeal}})
        .when(restore_deal{kDeal})
        .then({deal_restored{kDeal}});
    spec().given({created()}).when(restore_deal{kDeal}).then({});
    spec()
        .given({created(), deal_archived{kDeal}, deal_restored{kDeal}})
        .when(rename_deal{kDeal, "Back"})
        .then({deal_renamed{kDeal, "Back"}});
  }

  TEST_CASE("a won or lost deal can be archived") {
    spec()
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(archive_deal{kDeal})
        .then({deal_archived{kDeal}});
  }

  TEST_CASE("renaming trims the title; the same title is a no-op") {
    spec()
        .given({created()})
        .when(rename_deal{kDeal, " Acme expansion "})
        .then({deal_renamed{kDeal, "Acme expansion"}});
    spec().given({created()}).when(rename_deal{kDeal, "Acme renewal  "}).then({});
    spec()
        .given({created()})
        .when(rename_deal{kDeal, ""})
        .then_rejected(rejection_code::invalid, "title");
    spec()
        .given({created()})
        .when(rename_deal{kDeal, "line\x01"})
        .then_rejected(rejection_code::invalid, "title");
  }

  TEST_CASE("a value change records both amounts and may change the currency") {
    spec()
        .given({created()})
        .when(change_deal_value{kDeal, {2'000'000, "EUR"}})
        .then({deal_value_changed{kDeal, kTenK, {2'000'000, "EUR"}}});
    spec()
        .given({created()})
        .when(change_deal_value{kDeal, {1'000'000, "USD"}})
        .then({deal_value_changed{kDeal, kTenK, {1'000'000, "USD"}}});
    spec().given({created()}).when(change_deal_value{kDeal, kTenK}).then({});
  }

  TEST_CASE("a value is never negative and always in a known currency") {
    spec()
        .given({created()})
        .when(change_deal_value{kDeal, {-5, "EUR"}})
        .then_rejected(rejection_code::invalid, "value.amount_minor");
    spec()
        .given({created()})
        .when(change_deal_value{kDeal, {5, "eur"}})
        .then_rejected(rejection_code::invalid, "value.currency");
    spec()
        .given({created()})
        .when(change_deal_value{kDeal, {1'000'000'000'000'001, "EUR"}})
        .then_rejected(rejection_code::invalid, "value.amount_minor");
  }

  TEST_CASE("the value of a closed deal can still be corrected") {
    spec()
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(change_deal_value{kDeal, {900'000, "EUR"}})
        .then({deal_value_changed{kDeal, kTenK, {900'000, "EUR"}}});
  }

  TEST_CASE("moving a deal records the stages, the pipeline and the time") {
    spec()
        .given({created()})
        .when(move_deal_stage{kDeal, kProposal})
        .then({deal_stage_moved{kDeal, kPipeline, kLead, kProposal, kNow}});
    // Backwards is allowed: deals fall back when a negotiation stalls.
    spec()
        .given({created(), deal_stage_moved{kDeal, kPipeline, kLead, kNegotiation, kEarlier}})
        .when(move_deal_stage{kDeal, kLead})
        .then({deal_stage_moved{kDeal, kPipeline, kNegotiation, kLead, kNow}});
  }

  TEST_CASE("moving to the current stage is a no-op") {
    spec().given({created()}).when(move_deal_stage{kDeal, kLead}).then({});
  }

  TEST_CASE("a deal only moves to a stage of its pipeline") {
    spec()
        .given({created()})
        .when(move_deal_stage{kDeal, stage_id{"s9"}})
        .then_rejected(rejection_code::invalid, "stage_id");
    spec(pipeline_of({sales_created(), pipeline_stage_removed{kPipeline, kProposal}}))
        .given({created()})
        .when(move_deal_stage{kDeal, kProposal})
        .then_rejected(rejection_code::invalid, "stage_id");
  }

  TEST_CASE("a deal does not move in an archived or missing pipeline") {
    spec(pipeline_of({sales_created(), pipeline_archived{kPipeline}}))
        .given({created()})
        .when(move_deal_stage{kDeal, kProposal})
        .then_rejected(rejection_code::invalid_state, "pipeline_id");
    spec(pipeline_state{})
        .given({created()})
        .when(move_deal_stage{kDeal, kProposal})
        .then_rejected(rejection_code::invalid_state, "pipeline_id");
    spec(pipeline_of({pipeline_created{pipeline_id{"other"}, "Other", {{kProposal, "P", 5}}}}))
        .given({created()})
        .when(move_deal_stage{kDeal, kProposal})
        .then_rejected(rejection_code::invalid_state, "pipeline_id");
  }

  TEST_CASE("a won or lost deal must be reopened before it moves") {
    spec()
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(move_deal_stage{kDeal, kProposal})
        .then_rejected(rejection_code::invalid_state, "status");
    spec()
        .given({created(), deal_lost{kDeal, "Price", kEarlier}})
        .when(move_deal_stage{kDeal, kProposal})
        .then_rejected(rejection_code::invalid_state, "status");
  }

  TEST_CASE("assigning an owner records both owners; the same owner is a no-op") {
    spec()
        .given({created()})
        .when(assign_deal_owner{kDeal, kBob})
        .then({deal_owner_assigned{kDeal, kAlice, kBob}});
    spec().given({created()}).when(assign_deal_owner{kDeal, kAlice}).then({});
    spec()
        .given({created()})
        .when(assign_deal_owner{kDeal, user_id{}})
        .then_rejected(rejection_code::invalid, "owner_id");
  }

  TEST_CASE("a deal links one company; linking another unlinks the first") {
    spec()
        .given({created()})
        .when(link_deal_company{kDeal, kAcme})
        .then({deal_company_linked{kDeal, kAcme}});
    spec()
        .given({created(), deal_company_linked{kDeal, kAcme}})
        .when(link_deal_company{kDeal, kAcme})
        .then({});
    spec()
        .given({created(), deal_company_linked{kDeal, kAcme}})
        .when(link_deal_company{kDeal, kGlobex})
        .then({deal_company_unlinked{kDeal, kAcme}, deal_company_linked{kDeal, kGlobex}});
    spec()
        .given({created()})
        .when(link_deal_company{kDeal, company_id{""}})
        .then_rejected(rejection_code::invalid, "company_id");
  }

  TEST_CASE("unlinking the company; without one it is a no-op") {
    spec()
        .given({created(), deal_company_linked{kDeal, kAcme}})
        .when(unlink_deal_company{kDeal})
        .then({deal_company_unlinked{kDeal, kAcme}});
    spec().given({created()}).when(unlink_deal_company{kDeal}).then({});
  }

  TEST_CASE("linking contacts; an already linked contact is a no-op") {
    spec()
        .given({created()})
        .when(link_deal_contact{kDeal, kCarol})
        .then({deal_contact_linked{kDeal, kCarol}});
    spec()
        .given({created(), deal_contact_linked{kDeal, kCarol}})
        .when(link_deal_contact{kDeal, kCarol})
        .then({});
    spec()
        .given({created()})
        .when(link_deal_contact{kDeal, contact_id{"no spaces"}})
        .then_rejected(rejection_code::invalid, "contact_id");
  }

  TEST_CASE("a deal links at most 100 contacts") {
    std::vector<deal_event> history{created()};
    for (int i = 0; i < 100; ++i) {
      history.push_back(deal_contact_linked{kDeal, contact_id{"c" + std::to_string(i)}});
    }
    spec()
        .given(history)
        .when(link_deal_contact{kDeal, contact_id{"c100"}})
        .then_rejected(rejection_code::invalid, "contact_id");
    // Re-linking one of the hundred is still a harmless no-op.
    spec().given(history).when(link_deal_contact{kDeal, contact_id{"c5"}}).then({});
    history.push_back(deal_contact_unlinked{kDeal, contact_id{"c5"}});
    spec()
        .given(history)
        .when(link_deal_contact{kDeal, contact_id{"c100"}})
        .then({deal_contact_linked{kDeal, contact_id{"c100"}}});
  }

  TEST_CASE("unlinking a contact; one not linked is a no-op") {
    spec()
        .given({created(), deal_contact_linked{kDeal, kCarol}})
        .when(unlink_deal_contact{kDeal, kCarol})
        .then({deal_contact_unlinked{kDeal, kCarol}});
    spec().given({created()}).when(unlink_deal_contact{kDeal, kDave}).then({});
  }

  TEST_CASE("changing and clearing the expected close date") {
    spec()
        .given({created()})
        .when(change_deal_close_date{kDeal, kCloseDate})
        .then({deal_close_date_changed{kDeal, std::nullopt, kCloseDate}});
    spec()
        .given({created(), deal_close_date_changed{kDeal, std::nullopt, kCloseDate}})
        .when(change_deal_close_date{kDeal, std::nullopt})
        .then({deal_close_date_changed{kDeal, kCloseDate, std::nullopt}});
    spec()
        .given({created(), deal_close_date_changed{kDeal, std::nullopt, kCloseDate}})
        .when(change_deal_close_date{kDeal, kCloseDate})
        .then({});
    spec().given({created()}).when(change_deal_close_date{kDeal, std::nullopt}).then({});
    spec()
        .given({created()})
        .when(change_deal_close_date{kDeal, date{1970y / January / 1}})
        .then_rejected(rejection_code::invalid, "expected_close_date");
  }

  TEST_CASE("winning an open deal records when") {
    spec().given({created()}).when(win_deal{kDeal}).then({deal_won{kDeal, kNow}});
  }

  TEST_CASE("winning a closed deal is refused") {
    spec()
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(win_deal{kDeal})
        .then_rejected(rejection_code::invalid_state, "status");
    spec()
        .given({created(), deal_lost{kDeal, "Price", kEarlier}})
        .when(win_deal{kDeal})
        .then_rejected(rejection_code::invalid_state, "status");
  }

  TEST_CASE("losing a deal needs a reason of at most 500 characters") {
    spec()
        .given({created()})
        .when(lose_deal{kDeal, "  Went with a competitor\n(cheaper) "})
        .then({deal_lost{kDeal, "Went with a competitor\n(cheaper)", kNow}});
    spec()
        .given({created()})
        .when(lose_deal{kDeal, "   "})
        .then_rejected(rejection_code::invalid, "reason");
    spec()
        .given({created()})
        .when(lose_deal{kDeal, std::string(501, 'r')})
        .then_rejected(rejection_code::invalid, "reason");
    spec()
        .given({created()})
        .when(lose_deal{kDeal, std::string(500, 'r')})
        .then({deal_lost{kDeal, std::string(500, 'r'), kNow}});
    spec()
        .given({created()})
        .when(lose_deal{kDeal, "bell\a"})
        .then_rejected(rejection_code::invalid, "reason");
  }

  TEST_CASE("losing a closed deal is refused") {
    spec()
        .given({created(), deal_lost{kDeal, "Price", kEarlier}})
        .when(lose_deal{kDeal, "Again"})
        .then_rejected(rejection_code::invalid_state, "status");
    spec()
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(lose_deal{kDeal, "Changed mind"})
        .then_rejected(rejection_code::invalid_state, "status");
  }

  TEST_CASE("reopening a closed deal puts it back in a stage, entered now") {
    spec()
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(reopen_deal{kDeal, std::nullopt})
        .then({deal_reopened{kDeal, kLead, kNow}});
    spec()
        .given({created(), deal_lost{kDeal, "Price", kEarlier}})
        .when(reopen_deal{kDeal, kNegotiation})
        .then({deal_reopened{kDeal, kNegotiation, kNow}});
  }

  TEST_CASE("only a won or lost deal can be reopened") {
    spec()
        .given({created()})
        .when(reopen_deal{kDeal, std::nullopt})
        .then_rejected(rejection_code::invalid_state, "status");
  }

  TEST_CASE("a deal reopens only into a stage of its live pipeline") {
    const auto removed = pipeline_of({sales_created(), pipeline_stage_removed{kPipeline, kLead}});
    spec(removed)
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(reopen_deal{kDeal, std::nullopt})
        .then_rejected(rejection_code::invalid, "stage_id");
    spec(removed)
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(reopen_deal{kDeal, kProposal})
        .then({deal_reopened{kDeal, kProposal, kNow}});
    spec()
        .given({created(), deal_won{kDeal, kEarlier}})
        .when(reopen_deal{kDeal, stage_id{"nope"}})
        .then_rejected(rejection_code::invalid, "stage_id");
    spec(pipeline_of({sales_created(), pipeline_archived{kPipeline}}))
        .given({created(), deal_lost{kDeal, "Price", kEarlier}})
        .when(reopen_deal{kDeal, std::nullopt})
        .then_rejected(rejection_code::invalid_state, "pipeline_id");
  }

  TEST_CASE("closing a deal in an archived pipeline is allowed") {
    spec(pipeline_of({sales_created(), pipeline_archived{kPipeline}}))
        .given({created()})
        .when(lose_deal{kDeal, "Pipeline retired"})
        .then({deal_lost{kDeal, "Pipeline retired", kNow}});
  }

  TEST_CASE("the caller loads the pipeline named by a create, else the deal's own") {
    CHECK(pipeline_for(create_deal{kDeal, pipeline_id{"p7"}}, deal_state{}) == pipeline_id{"p7"});
    CHECK(pipeline_for(move_deal_stage{kDeal, kProposal}, fold({created()})) == kPipeline);
  }

  TEST_CASE("deal_status names round-trip") {
    for (auto status : {deal_status::open, deal_status::won, deal_status::lost}) {
      deal_status parsed = deal_status::open;
      CHECK(from_string(to_string(status), parsed));
      CHECK(parsed == status);
    }
    deal_status untouched = deal_status::won;
    CHECK_FALSE(from_string("Won", untouched));
    CHECK_FALSE(from_string("", untouched));
    CHECK(untouched == deal_status::won);
    CHECK(to_string(deal_status::lost) == "lost");
  }
}

TEST_SUITE("deal evolve") {
  TEST_CASE("created sets every field and the stage entry time") {
    const auto s = fold({deal_created{kDeal,
                                      kPipeline,
                                      kProposal,
                                      "T",
                                      kTenK,
                                      kBob,
                                      kAcme,
                                      {kCarol, kDave},
                                      kCloseDate,
                                      kEarlier}});
    CHECK(s.exists);
    CHECK(s.id == kDeal);
    CHECK(s.pipeline == kPipeline);
    CHECK(s.stage == kProposal);
    CHECK(s.stage_entered_at == kEarlier);
    CHECK(s.created_at == kEarlier);
    CHECK(s.title == "T");
    CHECK(s.value == kTenK);
    CHECK(s.owner == kBob);
    CHECK(s.company == kAcme);
    CHECK(s.contacts == std::set<contact_id>{kCarol, kDave});
    CHECK(s.expected_close_date == kCloseDate);
    CHECK(s.status == deal_status::open);
    CHECK_FALSE(s.closed_at);
    CHECK_FALSE(s.archived);
  }

  TEST_CASE("an empty state does not exist") {
    CHECK_FALSE(deal_state{}.exists);
  }

  TEST_CASE("renamed, value changed, owner assigned, close date changed") {
    const auto s = fold({created(), deal_renamed{kDeal, "Renamed"},
                         deal_value_changed{kDeal, kTenK, {7, "USD"}},
                         deal_owner_assigned{kDeal, kAlice, kBob},
                         deal_close_date_changed{kDeal, std::nullopt, kCloseDate}});
    CHECK(s.title == "Renamed");
    CHECK(s.value == money{7, "USD"});
    CHECK(s.owner == kBob);
    CHECK(s.expected_close_date == kCloseDate);
    CHECK_FALSE(fold({created(), deal_close_date_changed{kDeal, std::nullopt, kCloseDate},
                      deal_close_date_changed{kDeal, kCloseDate, std::nullopt}})
                    .expected_close_date);
  }

  TEST_CASE("a stage move restarts the time in stage") {
    const auto s = fold({created(), deal_stage_moved{kDeal, kPipeline, kLead, kProposal, kNow}});
    CHECK(s.stage == kProposal);
    CHECK(s.stage_entered_at == kNow);
    CHECK(days_in_stage(s, kNow) == 0);
    CHECK(days_in_stage(s, kNow + hours{47}) == 1);
    CHECK(days_in_stage(s, kNow + days{10}) == 10);
    CHECK(days_in_stage(s, kNow - days{1}) == 0);
    CHECK(days_in_stage(fold({created()}), kNow) == 26);  // 1 Nov to 27 Nov
  }

  TEST_CASE("company and contact links") {
    auto s = fold({created(), deal_company_linked{kDeal, kAcme}, deal_contact_linked{kDeal, kCarol},
                   deal_contact_linked{kDeal, kDave}, deal_contact_unlinked{kDeal, kCarol}});
    CHECK(s.company == kAcme);
    CHECK(s.contacts == std::set<contact_id>{kDave});
    s = evolve(s, deal_company_unlinked{kDeal, kGlobex});  // not the linked one: nothing changes
    CHECK(s.company == kAcme);
    s = evolve(s, deal_company_unlinked{kDeal, kAcme});
    CHECK_FALSE(s.company);
  }

  TEST_CASE("won, lost and reopened track status, reason and closing time") {
    auto s = fold({created(), deal_won{kDeal, kNow}});
    CHECK(s.status == deal_status::won);
    CHECK(s.closed_at == kNow);
    CHECK(s.lost_reason.empty());
    s = fold({created(), deal_lost{kDeal, "Budget", kNow}});
    CHECK(s.status == deal_status::lost);
    CHECK(s.lost_reason == "Budget");
    CHECK(s.closed_at == kNow);
    const timestamp later = kNow + days{3};
    s = evolve(s, deal_reopened{kDeal, kNegotiation, later});
    CHECK(s.status == deal_status::open);
    CHECK(s.lost_reason.empty());
    CHECK_FALSE(s.closed_at);
    CHECK(s.stage == kNegotiation);
    CHECK(s.stage_entered_at == later);
  }

  TEST_CASE("archived and restored") {
    auto s = fold({created(), deal_archived{kDeal}});
    CHECK(s.archived);
    CHECK(s.exists);
    s = evolve(s, deal_restored{kDeal});
    CHECK_FALSE(s.archived);
  }
}

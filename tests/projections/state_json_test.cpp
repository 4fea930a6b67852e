// Aggregate states as JSON: the records read model keeps each record's folded state in its doc
// column and folds on from it after a restart, so every field must survive the round trip.
#include <doctest/doctest.h>

#include "domain/activity/activity_state.hpp"
#include "domain/company/company_state.hpp"
#include "domain/contact/contact_state.hpp"
#include "domain/deal/deal_state.hpp"
#include "domain/lead/lead_state.hpp"
#include "domain/pipeline/pipeline_state.hpp"
#include "domain/task/task_state.hpp"
#include "domain/team/team_state.hpp"
#include "domain/user/user_state.hpp"
#include "infra/event_codec.hpp"

using namespace realmkit;
using namespace realmkit::domain;
using namespace std::chrono;

namespace {

timestamp at(std::int64_t us) {
  return timestamp{microseconds{us}};
}

// Decodes what it encoded, and checks the second encoding is the first: nothing was lost on the
// way or added by defaults.
template <class State>
State round_trip(const State& s) {
  const auto json = infra::to_json(s);
  auto back = infra::from_json<State>(json);
  CHECK(infra::to_json(back) == json);
  return back;
}

}  // namespace

TEST_CASE("a user state survives JSON") {
  user_state s;
  s.exists = true;
  s.id = user_id{"u1"};
  s.email = "ada@example.com";
  s.display_name = "Ada";
  s.role = user_role::manager;
  s.team = team_id{"t1"};
  s.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
  s.active = false;
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.email == s.email);
  CHECK(r.display_name == s.display_name);
  CHECK(r.role == s.role);
  CHECK(r.team == s.team);
  CHECK(r.password_hash == s.password_hash);
  CHECK_FALSE(r.active);
}

TEST_CASE("a team state survives JSON") {
  team_state s;
  s.exists = true;
  s.id = team_id{"t1"};
  s.name = "Team A";
  s.manager = user_id{"u1"};
  s.members = {user_id{"u1"}, user_id{"u2"}};
  s.archived = true;
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.name == s.name);
  CHECK(r.manager == s.manager);
  CHECK(r.members == s.members);
  CHECK(r.archived);
}

TEST_CASE("a company state survives JSON") {
  company_state s;
  s.exists = true;
  s.id = company_id{"c1"};
  s.name = "Acme";
  s.domain = "acme.example";
  s.industry = "Rockets";
  s.size = company_size::s51_200;
  s.phone = "+44 20 7946 0000";
  s.address = {"1 Road\nFlat 2", "London", "Greater London", "N1 1AA", "GB"};
  s.owner = user_id{"u1"};
  s.tags = {"vip", "b2b"};
  s.archived = true;
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.name == s.name);
  CHECK(r.domain == s.domain);
  CHECK(r.industry == s.industry);
  CHECK(r.size == s.size);
  CHECK(r.phone == s.phone);
  CHECK(r.address == s.address);
  CHECK(r.owner == s.owner);
  CHECK(r.tags == s.tags);
  CHECK(r.archived);
}

TEST_CASE("a contact state survives JSON, consents keyed by channel") {
  contact_state s;
  s.exists = true;
  s.id = contact_id{"k1"};
  s.first_name = "Ada";
  s.last_name = "Lovelace";
  s.emails = {{"ada@example.com", true}, {"ada@work.example", false}};
  s.phones = {{"+1 555 0100", phone_label::mobile}};
  s.company = company_id{"c1"};
  s.title = "Countess";
  s.owner = user_id{"u1"};
  s.tags = {"math"};
  s.consent(consent_channel::email_marketing) = {true, at(1'000), "web form"};
  s.consent(consent_channel::phone_calls) = {false, at(2'000), "call"};
  s.archived = true;
  s.merged_into = contact_id{"k2"};
  const auto json = infra::to_json(s);
  CHECK(json.find(R"("consents":{"email_marketing":{"granted":true,)") != std::string::npos);
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.first_name == s.first_name);
  CHECK(r.last_name == s.last_name);
  CHECK(r.emails == s.emails);
  CHECK(r.phones == s.phones);
  CHECK(r.company == s.company);
  CHECK(r.title == s.title);
  CHECK(r.owner == s.owner);
  CHECK(r.tags == s.tags);
  CHECK(r.consents == s.consents);
  CHECK(r.consent(consent_channel::sms_marketing) == consent_record{});
  CHECK(r.archived);
  CHECK(r.merged_into == s.merged_into);
}

TEST_CASE("a lead state survives JSON") {
  lead_state s;
  s.exists = true;
  s.id = lead_id{"l1"};
  s.name = "Grace Hopper";
  s.email = "grace@example.com";
  s.phone = "+1 555 0199";
  s.company_name = "Navy";
  s.source = lead_source::referral;
  s.owner = user_id{"u1"};
  s.status = lead_status::converted;
  s.disqualified_reason = "was spam once";
  s.score = 87;
  s.score_reason = "fits";
  s.score_model = "v2";
  s.converted_contact = contact_id{"k1"};
  s.converted_company = company_id{"c1"};
  s.converted_deal = deal_id{"d1"};
  s.converted_at = at(3'000'000);
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.name == s.name);
  CHECK(r.email == s.email);
  CHECK(r.phone == s.phone);
  CHECK(r.company_name == s.company_name);
  CHECK(r.source == s.source);
  CHECK(r.owner == s.owner);
  CHECK(r.status == s.status);
  CHECK(r.disqualified_reason == s.disqualified_reason);
  CHECK(r.score == s.score);
  CHECK(r.score_reason == s.score_reason);
  CHECK(r.score_model == s.score_model);
  CHECK(r.converted_contact == s.converted_contact);
  CHECK(r.converted_company == s.converted_company);
  CHECK(r.converted_deal == s.converted_deal);
  CHECK(r.converted_at == s.converted_at);
}

TEST_CASE("a pipeline state survives JSON") {
  pipeline_state s;
  s.exists = true;
  s.id = pipeline_id{"p1"};
  s.name = "Sales";
  s.stages = {{stage_id{"s1"}, "Lead", 10}, {stage_id{"s2"}, "Won-ish", 90}};
  s.archived = true;
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.name == s.name);
  CHECK(r.stages == s.stages);
  CHECK(r.archived);
}

TEST_CASE("a deal state survives JSON") {
  deal_state s;
  s.exists = true;
  s.id = deal_id{"d1"};
  s.title = "Big deal";
  s.value = {123'456, "EUR"};
  s.pipeline = pipeline_id{"p1"};
  s.stage = stage_id{"s2"};
  s.stage_entered_at = at(5'000'000);
  s.owner = user_id{"u1"};
  s.company = company_id{"c1"};
  s.contacts = {contact_id{"k1"}, contact_id{"k2"}};
  s.expected_close_date = sys_days{year{2026} / 11 / 27};
  s.status = deal_status::lost;
  s.lost_reason = "price";
  s.closed_at = at(9'000'000);
  s.created_at = at(4'000'000);
  s.archived = true;
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.title == s.title);
  CHECK(r.value == s.value);
  CHECK(r.pipeline == s.pipeline);
  CHECK(r.stage == s.stage);
  CHECK(r.stage_entered_at == s.stage_entered_at);
  CHECK(r.owner == s.owner);
  CHECK(r.company == s.company);
  CHECK(r.contacts == s.contacts);
  CHECK(r.expected_close_date == s.expected_close_date);
  CHECK(r.status == s.status);
  CHECK(r.lost_reason == s.lost_reason);
  CHECK(r.closed_at == s.closed_at);
  CHECK(r.created_at == s.created_at);
  CHECK(r.archived);
}

TEST_CASE("an activity state survives JSON") {
  activity_state s;
  s.exists = true;
  s.id = activity_id{"a1"};
  s.type = activity_type::meeting;
  s.subject = {entity_kind::deal, "d1"};
  s.summary = "Kick-off";
  s.body = "Notes\nmore notes";
  s.occurred_at = at(7'000'000);
  s.duration_minutes = 45;
  s.owner = user_id{"u1"};
  s.deleted = true;
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.type == s.type);
  CHECK(r.subject == s.subject);
  CHECK(r.summary == s.summary);
  CHECK(r.body == s.body);
  CHECK(r.occurred_at == s.occurred_at);
  CHECK(r.duration_minutes == s.duration_minutes);
  CHECK(r.owner == s.owner);
  CHECK(r.deleted);
}

TEST_CASE("a task state survives JSON") {
  task_state s;
  s.exists = true;
  s.id = task_id{"t1"};
  s.title = "Call back";
  s.description = "About the offer";
  s.assignee = user_id{"u1"};
  s.due_at = at(8'000'000);
  s.link = entity_ref{entity_kind::lead, "l1"};
  s.priority = task_priority::high;
  s.done = true;
  s.completed_at = at(8'500'000);
  s.deleted = true;
  const auto r = round_trip(s);
  CHECK(r.exists);
  CHECK(r.id == s.id);
  CHECK(r.title == s.title);
  CHECK(r.description == s.description);
  CHECK(r.assignee == s.assignee);
  CHECK(r.due_at == s.due_at);
  CHECK(r.link == s.link);
  CHECK(r.priority == s.priority);
  CHECK(r.done);
  CHECK(r.completed_at == s.completed_at);
  CHECK(r.deleted);
}

TEST_CASE("an empty state survives JSON too (a record not created yet)") {
  const auto r = round_trip(task_state{});
  CHECK_FALSE(r.exists);
  CHECK_FALSE(r.due_at.has_value());
  CHECK_FALSE(r.link.has_value());
}

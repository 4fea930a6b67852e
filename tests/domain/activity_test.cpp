#include <string>

#include "domain/activity/activity_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using namespace std::chrono;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

decider_spec<activity_aggregate> spec() {
  return decider_spec<activity_aggregate>([](const activity_command& c, const activity_state& s) {
    return decide(c, s, test_context());
  });
}

const activity_id kActivity{"a1"};
const entity_ref kAboutDeal{entity_kind::deal, "d1"};
const user_id kBob{"bob"};
const timestamp kNow = test_context().now;
const timestamp kYesterday = kNow - days{1};

log_activity call_command() {
  return log_activity{kActivity,   activity_type::call, kAboutDeal, "Intro call",
                      "Went well", kYesterday,          30,         std::nullopt};
}

activity_event call_logged() {
  return activity_logged{kActivity,   activity_type::call, kAboutDeal, "Intro call",
                         "Went well", kYesterday,          30,         kBob};
}

activity_event note_logged() {
  return activity_logged{kActivity, activity_type::note, kAboutDeal,   "Note",
                         "",        kYesterday,          std::nullopt, kBob};
}

activity_state fold(const std::vector<activity_event>& events) {
  activity_state s;
  for (const auto& e : events) s = evolve(std::move(s), e);
  return s;
}

}  // namespace

TEST_SUITE("activity") {
  TEST_CASE("logging a call records it, owned by the actor") {
    auto c = call_command();
    c.summary = "  Intro call ";
    spec().when(c).then({activity_logged{kActivity, activity_type::call, kAboutDeal, "Intro call",
                                         "Went well", kYesterday, 30, test_context().actor}});
  }

  TEST_CASE("activities of every type attach to every kind of record") {
    for (auto kind :
         {entity_kind::contact, entity_kind::company, entity_kind::deal, entity_kind::lead}) {
      for (auto type : {activity_type::call, activity_type::email, activity_type::meeting,
                        activity_type::note, activity_type::sms}) {
        CAPTURE(to_string(kind));
        CAPTURE(to_string(type));
        log_activity c{kActivity, type, {kind, "x-1"}, "S", "", kNow, std::nullopt, kBob};
        spec().when(c).then(
            {activity_logged{kActivity, type, {kind, "x-1"}, "S", "", kNow, std::nullopt, kBob}});
      }
    }
  }

  TEST_CASE("an activity is logged once") {
    spec()
        .given({call_logged()})
        .when(call_command())
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("an activity needs an id, a summary and a well-formed subject") {
    auto c = call_command();
    c.activity = activity_id{""};
    spec().when(c).then_rejected(rejection_code::invalid, "id");
    c = call_command();
    c.summary = "  ";
    spec().when(c).then_rejected(rejection_code::invalid, "summary");
    c.summary = std::string(201, 's');
    spec().when(c).then_rejected(rejection_code::invalid, "summary");
    c = call_command();
    c.subject.id = "";
    spec().when(c).then_rejected(rejection_code::invalid, "subject.id");
    c.subject = {static_cast<entity_kind>(42), "d1"};
    spec().when(c).then_rejected(rejection_code::invalid, "subject.kind");
    c = call_command();
    c.type = static_cast<activity_type>(42);
    spec().when(c).then_rejected(rejection_code::invalid, "type");
    c = call_command();
    c.owner = user_id{"not valid"};
    spec().when(c).then_rejected(rejection_code::invalid, "owner_id");
  }

  TEST_CASE("the body holds at most 10000 characters of text") {
    auto c = call_command();
    c.body = std::string(10'001, 'b');
    spec().when(c).then_rejected(rejection_code::invalid, "body");
    c.body = "tab\there\nnew line";
    spec().when(c).then(
        {activity_logged{kActivity, activity_type::call, kAboutDeal, "Intro call",
                         "tab\there\nnew line", kYesterday, 30, test_context().actor}});
    c.body = std::string("nul\0byte", 8);
    spec().when(c).then_rejected(rejection_code::invalid, "body");
    // Limits count characters, not bytes: 10000 two-byte characters fit.
    std::string umlauts;
    for (int i = 0; i < 10'000; ++i) umlauts += "\xC3\xBC";
    c.body = umlauts;
    auto d = decide(activity_command{c}, activity_state{}, test_context());
    CHECK(d.ok());
  }

  TEST_CASE("occurred_at is required and plausible") {
    auto c = call_command();
    c.occurred_at = timestamp{};
    spec().when(c).then_rejected(rejection_code::invalid, "occurred_at");
    c.occurred_at = sys_days{1999y / December / 31};
    spec().when(c).then_rejected(rejection_code::invalid, "occurred_at");
    c.occurred_at = kNow + days{367};
    spec().when(c).then_rejected(rejection_code::invalid, "occurred_at");
    c.occurred_at = kNow + days{30};  // a meeting logged ahead
    spec().when(c).then({activity_logged{kActivity, activity_type::call, kAboutDeal, "Intro call",
                                         "Went well", kNow + days{30}, 30, test_context().actor}});
  }

  TEST_CASE("calls and meetings last 0 to 1440 minutes") {
    auto c = call_command();
    c.duration_minutes = -1;
    spec().when(c).then_rejected(rejection_code::invalid, "duration_minutes");
    c.duration_minutes = 1441;
    spec().when(c).then_rejected(rejection_code::invalid, "duration_minutes");
    c.type = activity_type::meeting;
    c.duration_minutes = 1440;
    spec().when(c).then(
        {activity_logged{kActivity, activity_type::meeting, kAboutDeal, "Intro call", "Went well",
                         kYesterday, 1440, test_context().actor}});
    c.duration_minutes = 0;
    spec().when(c).then(
        {activity_logged{kActivity, activity_type::meeting, kAboutDeal, "Intro call", "Went well",
                         kYesterday, 0, test_context().actor}});
  }

  TEST_CASE("e-mails, notes and SMS have no duration") {
    for (auto type : {activity_type::email, activity_type::note, activity_type::sms}) {
      auto c = call_command();
      c.type = type;
      c.duration_minutes = 5;
      spec().when(c).then_rejected(rejection_code::invalid, "duration_minutes");
    }
    spec()
        .given({note_logged()})
        .when(edit_activity{kActivity, std::nullopt, std::nullopt, std::nullopt, 10})
        .then_rejected(rejection_code::invalid, "duration_minutes");
  }

  TEST_CASE("editing replaces the given fields and reports them all") {
    spec()
        .given({call_logged()})
        .when(edit_activity{kActivity, " Follow-up ", std::nullopt, std::nullopt, 45})
        .then({activity_edited{kActivity, "Follow-up", "Went well", kYesterday, 45}});
    spec()
        .given({call_logged()})
        .when(edit_activity{kActivity, std::nullopt, "Better notes", kNow, std::nullopt})
        .then({activity_edited{kActivity, "Intro call", "Better notes", kNow, 30}});
  }

  TEST_CASE("an edit that changes nothing is a no-op") {
    spec()
        .given({call_logged()})
        .when(edit_activity{kActivity, "Intro call ", "Went well", kYesterday, 30})
        .then({});
    spec().given({call_logged()}).when(edit_activity{kActivity}).then({});
  }

  TEST_CASE("edits follow the same field rules as logging") {
    spec()
        .given({call_logged()})
        .when(edit_activity{kActivity, "", std::nullopt, std::nullopt, std::nullopt})
        .then_rejected(rejection_code::invalid, "summary");
    spec()
        .given({call_logged()})
        .when(edit_activity{kActivity, std::nullopt, std::string(10'001, 'b'), std::nullopt,
                            std::nullopt})
        .then_rejected(rejection_code::invalid, "body");
    spec()
        .given({call_logged()})
        .when(edit_activity{kActivity, std::nullopt, std::nullopt, timestamp{}, std::nullopt})
        .then_rejected(rejection_code::invalid, "occurred_at");
    spec()
        .given({call_logged()})
        .when(edit_activity{kActivity, std::nullopt, std::nullopt, std::nullopt, 2000})
        .then_rejected(rejection_code::invalid, "duration_minutes");
  }

  TEST_CASE("a deleted activity refuses edits; deleting again is a no-op") {
    spec()
        .given({call_logged()})
        .when(delete_activity{kActivity})
        .then({activity_deleted{kActivity}});
    spec()
        .given({call_logged(), activity_deleted{kActivity}})
        .when(edit_activity{kActivity, "New", std::nullopt, std::nullopt, std::nullopt})
        .then_rejected(rejection_code::invalid_state, "deleted");
    spec()
        .given({call_logged(), activity_deleted{kActivity}})
        .when(delete_activity{kActivity})
        .then({});
    spec()
        .given({call_logged(), activity_deleted{kActivity}})
        .when(call_command())
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("relinking moves an activity to the survivor of a merge, once") {
    const entity_ref duplicate{entity_kind::contact, "c2"};
    const entity_ref survivor{entity_kind::contact, "c1"};
    auto logged = std::get<activity_logged>(call_logged());
    logged.subject = duplicate;
    spec()
        .given({logged})
        .when(relink_activity{kActivity, duplicate, survivor})
        .then({activity_relinked{kActivity, duplicate, survivor}});
    // Already moved, or about another record: nothing to do, so the relink can be retried.
    spec()
        .given({logged, activity_relinked{kActivity, duplicate, survivor}})
        .when(relink_activity{kActivity, duplicate, survivor})
        .then({});
    spec().given({call_logged()}).when(relink_activity{kActivity, duplicate, survivor}).then({});
    // A deleted activity follows too: its history must not point at a record that is gone.
    spec()
        .given({logged, activity_deleted{kActivity}})
        .when(relink_activity{kActivity, duplicate, survivor})
        .then({activity_relinked{kActivity, duplicate, survivor}});
    spec()
        .given({logged})
        .when(relink_activity{kActivity, duplicate, duplicate})
        .then_rejected(rejection_code::invalid, "subject");
    spec()
        .given({logged})
        .when(relink_activity{kActivity, duplicate, entity_ref{entity_kind::contact, ""}})
        .then_rejected(rejection_code::invalid, "subject.id");
    spec()
        .when(relink_activity{kActivity, duplicate, survivor})
        .then_rejected(rejection_code::not_found, "");
    const auto s = fold({logged, activity_relinked{kActivity, duplicate, survivor}});
    CHECK(s.subject == survivor);
    CHECK(s.summary == "Intro call");
  }

  TEST_CASE("commands on a missing activity are not found") {
    spec().when(edit_activity{kActivity, "x"}).then_rejected(rejection_code::not_found, "");
    spec().when(delete_activity{kActivity}).then_rejected(rejection_code::not_found, "");
  }

  TEST_CASE("enum names round-trip") {
    for (auto type : {activity_type::call, activity_type::email, activity_type::meeting,
                      activity_type::note, activity_type::sms}) {
      activity_type parsed = activity_type::note;
      CHECK(from_string(to_string(type), parsed));
      CHECK(parsed == type);
    }
    for (auto kind :
         {entity_kind::contact, entity_kind::company, entity_kind::deal, entity_kind::lead}) {
      entity_kind parsed = entity_kind::contact;
      CHECK(from_string(to_string(kind), parsed));
      CHECK(parsed == kind);
    }
    activity_type type = activity_type::call;
    CHECK_FALSE(from_string("fax", type));
    CHECK_FALSE(from_string("SMS", type));
    CHECK(type == activity_type::call);
    entity_kind kind = entity_kind::lead;
    CHECK_FALSE(from_string("Deal", kind));
    CHECK(kind == entity_kind::lead);
    CHECK(to_string(activity_type::meeting) == "meeting");
    CHECK(to_string(entity_kind::company) == "company");
  }
}

TEST_SUITE("activity evolve") {
  TEST_CASE("logged sets every field") {
    const auto s = fold({call_logged()});
    CHECK(s.exists);
    CHECK(s.id == kActivity);
    CHECK(s.type == activity_type::call);
    CHECK(s.subject == kAboutDeal);
    CHECK(s.summary == "Intro call");
    CHECK(s.body == "Went well");
    CHECK(s.occurred_at == kYesterday);
    CHECK(s.duration_minutes == 30);
    CHECK(s.owner == kBob);
    CHECK_FALSE(s.deleted);
  }

  TEST_CASE("edited replaces the editable fields, keeps type, subject and owner") {
    const auto s =
        fold({call_logged(), activity_edited{kActivity, "S2", "B2", kNow, std::nullopt}});
    CHECK(s.summary == "S2");
    CHECK(s.body == "B2");
    CHECK(s.occurred_at == kNow);
    CHECK_FALSE(s.duration_minutes);
    CHECK(s.type == activity_type::call);
    CHECK(s.subject == kAboutDeal);
    CHECK(s.owner == kBob);
  }

  TEST_CASE("deleted marks the activity, which still exists") {
    const auto s = fold({call_logged(), activity_deleted{kActivity}});
    CHECK(s.deleted);
    CHECK(s.exists);
    CHECK(s.summary == "Intro call");
  }
}

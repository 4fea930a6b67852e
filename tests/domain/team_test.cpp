#include "domain/team/team_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

decider_spec<team_aggregate> spec() {
  return decider_spec<team_aggregate>(
      [](const team_command& c, const team_state& s) { return decide(c, s, test_context()); });
}

const team_id kTeam{"t1"};
const user_id kAda{"u1"};
const user_id kBob{"u2"};
const user_id kCy{"u3"};

team_event created() {
  return team_created{kTeam, "EMEA Sales"};
}

// A team of Ada (manager) and Bob.
std::vector<team_event> staffed() {
  return {created(), team_member_added{kTeam, kAda}, team_member_added{kTeam, kBob},
          team_manager_assigned{kTeam, std::nullopt, kAda}};
}

// A team holding exactly the maximum number of members.
std::vector<team_event> full() {
  std::vector<team_event> events{created()};
  for (std::size_t i = 0; i < kMaxTeamMembers; ++i) {
    events.push_back(team_member_added{kTeam, user_id{"m" + std::to_string(i)}});
  }
  return events;
}

}  // namespace

TEST_SUITE("team") {
  TEST_CASE("creating a team records its trimmed name") {
    spec().when(create_team{kTeam, " EMEA Sales ", std::nullopt}).then({created()});
  }

  TEST_CASE("a manager named at creation becomes the first member") {
    spec()
        .when(create_team{kTeam, "EMEA Sales", kAda})
        .then({created(), team_member_added{kTeam, kAda},
               team_manager_assigned{kTeam, std::nullopt, kAda}});
  }

  TEST_CASE("creation validates its fields and happens once") {
    spec()
        .when(create_team{team_id{""}, "EMEA", std::nullopt})
        .then_rejected(rejection_code::invalid, "id");
    spec()
        .when(create_team{kTeam, "", std::nullopt})
        .then_rejected(rejection_code::invalid, "name");
    spec()
        .when(create_team{kTeam, "EMEA", user_id{"not valid"}})
        .then_rejected(rejection_code::invalid, "manager_id");
    spec()
        .given({created()})
        .when(create_team{kTeam, "EMEA", std::nullopt})
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("commands on a missing team are not found") {
    for (team_command c : std::vector<team_command>{
             rename_team{kTeam, "X"}, add_team_member{kTeam, kAda}, remove_team_member{kTeam, kAda},
             assign_team_manager{kTeam, kAda}, archive_team{kTeam}}) {
      spec().when(c).then_rejected(rejection_code::not_found, "");
    }
  }

  TEST_CASE("renaming trims and is a no-op for the same name") {
    spec()
        .given({created()})
        .when(rename_team{kTeam, " APAC Sales"})
        .then({team_renamed{kTeam, "APAC Sales"}});
    spec().given({created()}).when(rename_team{kTeam, "EMEA Sales  "}).then({});
    spec()
        .given({created()})
        .when(rename_team{kTeam, " "})
        .then_rejected(rejection_code::invalid, "name");
  }

  TEST_CASE("adding a member; adding an existing member is a no-op") {
    spec()
        .given({created()})
        .when(add_team_member{kTeam, kCy})
        .then({team_member_added{kTeam, kCy}});
    spec().given(staffed()).when(add_team_member{kTeam, kBob}).then({});
    spec()
        .given({created()})
        .when(add_team_member{kTeam, user_id{""}})
        .then_rejected(rejection_code::invalid, "user_id");
  }

  TEST_CASE("a team holds at most 500 members") {
    spec()
        .given(full())
        .when(add_team_member{kTeam, kAda})
        .then_rejected(rejection_code::invalid, "user_id");
    // A member already in a full team is still a no-op, not a rejection.
    spec().given(full()).when(add_team_member{kTeam, user_id{"m7"}}).then({});
    spec()
        .given(full())
        .when(assign_team_manager{kTeam, kAda})
        .then_rejected(rejection_code::invalid, "manager_id");
    spec()
        .given(full())
        .when(assign_team_manager{kTeam, user_id{"m0"}})
        .then({team_manager_assigned{kTeam, std::nullopt, user_id{"m0"}}});
    auto s = spec();
    s.given(full());
    CHECK(s.state().members.size() == kMaxTeamMembers);
  }

  TEST_CASE("removing a member; removing a non-member names the user") {
    spec()
        .given(staffed())
        .when(remove_team_member{kTeam, kBob})
        .then({team_member_removed{kTeam, kBob}});
    spec()
        .given(staffed())
        .when(remove_team_member{kTeam, kCy})
        .then_rejected(rejection_code::invalid, "user_id");
    spec()
        .given(staffed())
        .when(remove_team_member{kTeam, user_id{"bad id"}})
        .then_rejected(rejection_code::invalid, "user_id");
  }

  TEST_CASE("removing the manager first leaves the team without a manager") {
    spec()
        .given(staffed())
        .when(remove_team_member{kTeam, kAda})
        .then({team_manager_assigned{kTeam, kAda, std::nullopt}, team_member_removed{kTeam, kAda}});
  }

  TEST_CASE("assigning a member as manager records from and to") {
    spec()
        .given(staffed())
        .when(assign_team_manager{kTeam, kBob})
        .then({team_manager_assigned{kTeam, kAda, kBob}});
    spec().given(staffed()).when(assign_team_manager{kTeam, kAda}).then({});
  }

  TEST_CASE("assigning a non-member as manager adds them first") {
    spec()
        .given(staffed())
        .when(assign_team_manager{kTeam, kCy})
        .then({team_member_added{kTeam, kCy}, team_manager_assigned{kTeam, kAda, kCy}});
    spec()
        .given(staffed())
        .when(assign_team_manager{kTeam, user_id{"a b"}})
        .then_rejected(rejection_code::invalid, "manager_id");
  }

  TEST_CASE("unassigning the manager keeps them as a member; without a manager it is a no-op") {
    spec()
        .given(staffed())
        .when(assign_team_manager{kTeam, std::nullopt})
        .then({team_manager_assigned{kTeam, kAda, std::nullopt}});
    spec().given({created()}).when(assign_team_manager{kTeam, std::nullopt}).then({});
  }

  TEST_CASE("an archived team refuses changes, and archiving twice is a no-op") {
    auto given = staffed();
    given.push_back(team_archived{kTeam});
    for (team_command c : std::vector<team_command>{
             rename_team{kTeam, "X"}, add_team_member{kTeam, kCy}, remove_team_member{kTeam, kBob},
             assign_team_manager{kTeam, kBob}}) {
      spec().given(given).when(c).then_rejected(rejection_code::invalid_state, "archived");
    }
    spec().given(given).when(archive_team{kTeam}).then({});
    spec().given(staffed()).when(archive_team{kTeam}).then({team_archived{kTeam}});
  }

  TEST_CASE("every event folds into the state, keeping the manager a member") {
    auto s = spec();
    s.given(staffed());
    CHECK(s.state().exists);
    CHECK(s.state().id == kTeam);
    CHECK(s.state().name == "EMEA Sales");
    CHECK(s.state().members == std::set<user_id>{kAda, kBob});
    CHECK(s.state().manager == kAda);
    CHECK_FALSE(s.state().archived);

    auto events = staffed();
    events.push_back(team_renamed{kTeam, "Nordics"});
    events.push_back(team_manager_assigned{kTeam, kAda, std::nullopt});
    events.push_back(team_member_removed{kTeam, kBob});
    events.push_back(team_archived{kTeam});
    s.given(events);
    CHECK(s.state().name == "Nordics");
    CHECK(s.state().members == std::set<user_id>{kAda});
    CHECK_FALSE(s.state().manager.has_value());
    CHECK(s.state().archived);

    // A manager removed by an older stream without the unassignment is still dropped.
    events = staffed();
    events.push_back(team_member_removed{kTeam, kAda});
    s.given(events);
    CHECK_FALSE(s.state().manager.has_value());
  }
}

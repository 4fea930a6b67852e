#include "domain/user/user_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

decider_spec<user_aggregate> spec() {
  return decider_spec<user_aggregate>(
      [](const user_command& c, const user_state& s) { return decide(c, s, test_context()); });
}

// The same spec, with the user acting on their own account.
decider_spec<user_aggregate> self_spec() {
  return decider_spec<user_aggregate>([](const user_command& c, const user_state& s) {
    auto ctx = test_context();
    ctx.actor = s.id;
    return decide(c, s, ctx);
  });
}

const user_id kUser{"u1"};
const team_id kTeam{"t1"};
const team_id kOtherTeam{"t2"};
const std::string kHash =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
const std::string kOtherHash =
    "$argon2id$v=19$m=65536,t=2,p=1$b3RoZXJzYWx0$2pQ3j1KVWc4F3ZnqT0SwS+NrB0AV8yZ1";

user_event registered() {
  return user_registered{kUser, "ada@example.com", "Ada Lovelace", user_role::sales_rep, kTeam};
}

}  // namespace

TEST_SUITE("user") {
  TEST_CASE("roles have stable wire names that read back") {
    for (auto role : {user_role::admin, user_role::manager, user_role::sales_rep,
                      user_role::analyst, user_role::auditor}) {
      user_role back = user_role::admin;
      CHECK_FALSE(to_string(role).empty());
      CHECK(from_string(to_string(role), back));
      CHECK(back == role);
    }
    CHECK(to_string(user_role::sales_rep) == "sales_rep");
    user_role out = user_role::analyst;
    CHECK_FALSE(from_string("owner", out));
    CHECK_FALSE(from_string("Admin", out));
    CHECK(out == user_role::analyst);
  }

  TEST_CASE("registering records a normalized e-mail and a trimmed name") {
    spec()
        .when(register_user{kUser, "  Ada@Example.COM ", " Ada Lovelace ", user_role::sales_rep,
                            kTeam, std::nullopt})
        .then({registered()});
  }

  TEST_CASE("registering with a password hash records it in its own event") {
    spec()
        .when(register_user{kUser, "ada@example.com", "Ada", user_role::admin, std::nullopt, kHash})
        .then({user_registered{kUser, "ada@example.com", "Ada", user_role::admin, std::nullopt},
               user_password_changed{kUser, kHash}});
  }

  TEST_CASE("registration validates every field") {
    auto reg = [](register_user c) { return spec().when(std::move(c)); };
    const register_user good{kUser,        "ada@example.com", "Ada", user_role::analyst,
                             std::nullopt, std::nullopt};
    auto c = good;
    c.user = user_id{"bad id"};
    reg(c).then_rejected(rejection_code::invalid, "id");
    c = good;
    c.email = "ada.example.com";
    reg(c).then_rejected(rejection_code::invalid, "email");
    c = good;
    c.display_name = "   ";
    reg(c).then_rejected(rejection_code::invalid, "display_name");
    c = good;
    c.display_name = std::string(201, 'a');
    reg(c).then_rejected(rejection_code::invalid, "display_name");
    c = good;
    c.role = static_cast<user_role>(42);
    reg(c).then_rejected(rejection_code::invalid, "role");
    c = good;
    c.team = team_id{""};
    reg(c).then_rejected(rejection_code::invalid, "team_id");
    c = good;
    c.password_hash = "hunter2";
    reg(c).then_rejected(rejection_code::invalid, "password_hash");
  }

  TEST_CASE("a user is registered once") {
    spec()
        .given({registered()})
        .when(register_user{kUser, "x@example.com", "X", user_role::admin, std::nullopt,
                            std::nullopt})
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("commands on a missing user are not found") {
    for (user_command c : std::vector<user_command>{
             rename_user{kUser, "A"}, change_user_email{kUser, "a@example.com"},
             change_user_role{kUser, user_role::admin}, change_user_team{kUser, kTeam},
             change_user_password{kUser, kHash}, deactivate_user{kUser}, reactivate_user{kUser}}) {
      spec().when(c).then_rejected(rejection_code::not_found, "");
    }
  }

  TEST_CASE("renaming trims, validates, and is a no-op for the same name") {
    spec()
        .given({registered()})
        .when(rename_user{kUser, " Ada King "})
        .then({user_renamed{kUser, "Ada King"}});
    spec().given({registered()}).when(rename_user{kUser, "Ada Lovelace "}).then({});
    spec()
        .given({registered()})
        .when(rename_user{kUser, "Ada\x01"})
        .then_rejected(rejection_code::invalid, "display_name");
  }

  TEST_CASE("changing the e-mail normalizes it and records both addresses") {
    spec()
        .given({registered()})
        .when(change_user_email{kUser, "ADA@analytical.engine.org"})
        .then({user_email_changed{kUser, "ada@example.com", "ada@analytical.engine.org"}});
    spec().given({registered()}).when(change_user_email{kUser, " ADA@example.com"}).then({});
    spec()
        .given({registered()})
        .when(change_user_email{kUser, "ada@"})
        .then_rejected(rejection_code::invalid, "email");
  }

  TEST_CASE("changing the role records from and to; the same role is a no-op") {
    spec()
        .given({registered()})
        .when(change_user_role{kUser, user_role::manager})
        .then({user_role_changed{kUser, user_role::sales_rep, user_role::manager}});
    spec().given({registered()}).when(change_user_role{kUser, user_role::sales_rep}).then({});
    spec()
        .given({registered()})
        .when(change_user_role{kUser, static_cast<user_role>(-1)})
        .then_rejected(rejection_code::invalid, "role");
  }

  TEST_CASE("users cannot change their own role, not even to the one they have") {
    self_spec()
        .given({registered()})
        .when(change_user_role{kUser, user_role::admin})
        .then_rejected(rejection_code::invalid_state, "role");
    self_spec()
        .given({registered()})
        .when(change_user_role{kUser, user_role::sales_rep})
        .then_rejected(rejection_code::invalid_state, "role");
    // Their other details remain theirs to change.
    self_spec()
        .given({registered()})
        .when(rename_user{kUser, "Ada"})
        .then({user_renamed{kUser, "Ada"}});
  }

  TEST_CASE("changing team records from and to, and leaving a team is a change to none") {
    spec()
        .given({registered()})
        .when(change_user_team{kUser, kOtherTeam})
        .then({user_team_changed{kUser, kTeam, kOtherTeam}});
    spec()
        .given({registered()})
        .when(change_user_team{kUser, std::nullopt})
        .then({user_team_changed{kUser, kTeam, std::nullopt}});
    spec().given({registered()}).when(change_user_team{kUser, kTeam}).then({});
    spec()
        .given({registered(), user_team_changed{kUser, kTeam, std::nullopt}})
        .when(change_user_team{kUser, std::nullopt})
        .then({});
    spec()
        .given({registered()})
        .when(change_user_team{kUser, team_id{"t/2"}})
        .then_rejected(rejection_code::invalid, "team_id");
  }

  TEST_CASE("a password hash must be an argon2id PHC string") {
    spec()
        .given({registered()})
        .when(change_user_password{kUser, kHash})
        .then({user_password_changed{kUser, kHash}});
    for (const std::string& bad : {
             std::string{},
             std::string{"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
             std::string{"$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub"},
             std::string{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ"},
             std::string{"$argon2id$v=19$m=65536,t=2,p=1$$RdescudvJCsgt3ub"},
             std::string{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$Rdesc udvJ"},
             std::string{"$argon2id$v=19$m=65536,t=2,p=1,$c29tZXNhbHQ$RdescudvJCsgt3ub"},
             std::string{"$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub"},
             std::string{"$argon2id$v=x$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub"},
             std::string{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub$extra"},
             "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$" + std::string(600, 'A'),
         }) {
      CAPTURE(bad);
      spec()
          .given({registered()})
          .when(change_user_password{kUser, bad})
          .then_rejected(rejection_code::invalid, "password_hash");
    }
  }

  TEST_CASE("setting the same password hash again is a no-op, a new one is recorded") {
    spec()
        .given({registered(), user_password_changed{kUser, kHash}})
        .when(change_user_password{kUser, kHash})
        .then({});
    spec()
        .given({registered(), user_password_changed{kUser, kHash}})
        .when(change_user_password{kUser, kOtherHash})
        .then({user_password_changed{kUser, kOtherHash}});
  }

  TEST_CASE("a deactivated user refuses every change but reactivation") {
    const std::vector<user_event> given{registered(), user_deactivated{kUser}};
    for (user_command c : std::vector<user_command>{
             rename_user{kUser, "A"}, change_user_email{kUser, "a@example.com"},
             change_user_role{kUser, user_role::admin}, change_user_team{kUser, kOtherTeam},
             change_user_password{kUser, kHash}}) {
      spec().given(given).when(c).then_rejected(rejection_code::invalid_state, "active");
    }
    spec().given(given).when(deactivate_user{kUser}).then({});
    spec().given(given).when(reactivate_user{kUser}).then({user_reactivated{kUser}});
  }

  TEST_CASE("deactivating takes someone else, and reactivating an active user is a no-op") {
    spec().given({registered()}).when(deactivate_user{kUser}).then({user_deactivated{kUser}});
    self_spec()
        .given({registered()})
        .when(deactivate_user{kUser})
        .then_rejected(rejection_code::invalid_state, "user_id");
    spec().given({registered()}).when(reactivate_user{kUser}).then({});
  }

  TEST_CASE("every event folds into the state") {
    auto s = spec();
    s.given({registered()});
    CHECK(s.state().exists);
    CHECK(s.state().id == kUser);
    CHECK(s.state().email == "ada@example.com");
    CHECK(s.state().display_name == "Ada Lovelace");
    CHECK(s.state().role == user_role::sales_rep);
    CHECK(s.state().team == kTeam);
    CHECK(s.state().active);
    CHECK(s.state().password_hash.empty());

    s.given({registered(), user_renamed{kUser, "Ada King"},
             user_email_changed{kUser, "ada@example.com", "ada@king.org"},
             user_role_changed{kUser, user_role::sales_rep, user_role::manager},
             user_team_changed{kUser, kTeam, kOtherTeam}, user_password_changed{kUser, kHash},
             user_deactivated{kUser}});
    const auto st = s.state();
    CHECK(st.display_name == "Ada King");
    CHECK(st.email == "ada@king.org");
    CHECK(st.role == user_role::manager);
    CHECK(st.team == kOtherTeam);
    CHECK(st.password_hash == kHash);
    CHECK_FALSE(st.active);

    s.given({registered(), user_deactivated{kUser}, user_reactivated{kUser}});
    CHECK(s.state().active);
  }
}

#include "domain/contact/contact_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

decider_spec<contact_aggregate> spec() {
  return decider_spec<contact_aggregate>([](const contact_command& c, const contact_state& s) {
    return decide(c, s, test_context());
  });
}

const contact_id kAda{"k1"};
const contact_id kDup1{"k2"};
const contact_id kDup2{"k3"};
const company_id kAcme{"c1"};
const company_id kGlobex{"c2"};
const user_id kActor = test_context().actor;
const user_id kOwner{"u9"};
const timestamp kNow = test_context().now;
const timestamp kYesterday = kNow - std::chrono::hours(24);
const timestamp kLastWeek = kNow - std::chrono::hours(24 * 7);

contact_event created() {
  return contact_created{kAda,
                         "Ada",
                         "Lovelace",
                         {{"ada@example.com", true}, {"ada@home.org", false}},
                         {{"+44 20 7946 0000", phone_label::work}},
                         kAcme,
                         "Analyst",
                         kActor,
                         {"vip"}};
}

create_contact create() {
  return create_contact{kAda,
                        " Ada ",
                        "Lovelace ",
                        {{" ADA@Example.com", false}, {"ada@home.org", false}},
                        {{" +44 20 7946 0000 ", phone_label::work}},
                        kAcme,
                        "Analyst",
                        std::nullopt,
                        {" VIP"}};
}

update_contact update() {
  return update_contact{kAda, {}, {}, {}};
}

std::vector<std::string> many(const std::string& prefix, std::size_t n,
                              const std::string& suffix = "") {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i) + suffix);
  return out;
}

contact_state fold(const std::vector<contact_event>& events) {
  contact_state s;
  for (const auto& e : events) s = evolve(std::move(s), e);
  return s;
}

contact_state duplicate(const contact_id& id, std::vector<contact_email> emails,
                        std::vector<contact_phone> phones, std::vector<std::string> tags) {
  return fold({contact_created{id, "Ada", "Lovelace", std::move(emails), std::move(phones),
                               std::nullopt, "", kActor, std::move(tags)}});
}

}  // namespace

TEST_SUITE("contact") {
  TEST_CASE("phone labels and consent channels have stable wire names that read back") {
    for (auto label : {phone_label::mobile, phone_label::work, phone_label::home, phone_label::fax,
                       phone_label::other}) {
      phone_label back = phone_label::other;
      CHECK_FALSE(to_string(label).empty());
      CHECK(from_string(to_string(label), back));
      CHECK(back == label);
    }
    for (auto channel : {consent_channel::email_marketing, consent_channel::sms_marketing,
                         consent_channel::phone_calls}) {
      consent_channel back = consent_channel::phone_calls;
      CHECK_FALSE(to_string(channel).empty());
      CHECK(from_string(to_string(channel), back));
      CHECK(back == channel);
    }
    phone_label label = phone_label::fax;
    consent_channel channel = consent_channel::sms_marketing;
    CHECK_FALSE(from_string("pager", label));
    CHECK_FALSE(from_string("post", channel));
    CHECK(label == phone_label::fax);
    CHECK(channel == consent_channel::sms_marketing);
  }

  TEST_CASE("phone numbers are compared by their digits") {
    CHECK(phone_key("+44 (20) 7946-0000") == "442079460000");
    CHECK(phone_key("+44 20 7946 0000") == phone_key("44.20.7946.0000"));
  }

  TEST_CASE("creating a contact normalizes it; the first address is primary by default") {
    spec().when(create()).then({created()});
  }

  TEST_CASE("an address marked primary stays primary") {
    auto c = create();
    c.emails[1].primary = true;
    auto expected = std::get<contact_created>(created());
    expected.emails = {{"ada@example.com", false}, {"ada@home.org", true}};
    spec().when(c).then({expected});
  }

  TEST_CASE("a contact needs only a last name") {
    spec()
        .when(create_contact{kAda, "", "Cher", {}, {}, std::nullopt, "", kOwner, {}})
        .then({contact_created{kAda, "", "Cher", {}, {}, std::nullopt, "", kOwner, {}}});
  }

  TEST_CASE("creation validates every field and names it") {
    auto rejected = [](create_contact c, const std::string& field) {
      spec().when(std::move(c)).then_rejected(rejection_code::invalid, field);
    };
    auto c = create();
    c.contact = contact_id{"k 1"};
    rejected(c, "id");
    c = create();
    c.first_name = "A\x02";
    rejected(c, "first_name");
    c = create();
    c.last_name = " ";
    rejected(c, "last_name");
    c = create();
    c.emails[1].address = "ada(at)home.org";
    rejected(c, "emails/1.address");
    c = create();
    c.emails[1].address = "Ada@EXAMPLE.com ";
    rejected(c, "emails/1.address");
    c = create();
    c.emails[0].primary = c.emails[1].primary = true;
    rejected(c, "emails/1.primary");
    c = create();
    c.emails.clear();
    for (const auto& a : many("a", kMaxContactEmails + 1, "@example.com")) {
      c.emails.push_back({a, false});
    }
    rejected(c, "emails");
    c = create();
    c.phones[0].number = "phone";
    rejected(c, "phones/0.number");
    c = create();
    c.phones.push_back({"+44 (20) 7946-0000", phone_label::mobile});
    rejected(c, "phones/1.number");
    c = create();
    c.phones[0].label = static_cast<phone_label>(17);
    rejected(c, "phones/0.label");
    c = create();
    c.phones.clear();
    for (const auto& n : many("+1 555 01", kMaxContactPhones + 1)) {
      c.phones.push_back({n, phone_label::other});
    }
    rejected(c, "phones");
    c = create();
    c.company = company_id{""};
    rejected(c, "company_id");
    c = create();
    c.title = std::string(201, 't');
    rejected(c, "title");
    c = create();
    c.owner = user_id{"?"};
    rejected(c, "owner_id");
    c = create();
    c.tags = {"fine", std::string(51, 'x')};
    rejected(c, "tags/1");
    c = create();
    c.tags = many("t", rules::kMaxTags + 1);
    rejected(c, "tags");
  }

  TEST_CASE("a contact is created once") {
    spec().given({created()}).when(create()).then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("commands on a missing contact are not found") {
    for (contact_command c : std::vector<contact_command>{
             update(), change_contact_company{kAda, kAcme},
             add_contact_email{kAda, "a@example.com", false},
             remove_contact_email{kAda, "a@example.com"},
             set_primary_contact_email{kAda, "a@example.com"},
             add_contact_phone{kAda, "+1 555 0100", phone_label::work},
             remove_contact_phone{kAda, "+1 555 0100"}, assign_contact_owner{kAda, kOwner},
             tag_contact{kAda, {"x"}}, untag_contact{kAda, {"x"}},
             give_contact_consent{kAda, consent_channel::email_marketing, std::nullopt, ""},
             withdraw_contact_consent{kAda, consent_channel::email_marketing, std::nullopt, ""},
             archive_contact{kAda}, restore_contact{kAda}}) {
      spec().when(c).then_rejected(rejection_code::not_found, "");
    }
  }

  TEST_CASE("an update records only the fields that changed") {
    auto c = update();
    c.first_name = "Ada ";
    c.last_name = "King";
    spec()
        .given({created()})
        .when(c)
        .then({contact_updated{kAda, std::nullopt, "King", std::nullopt}});
    spec().given({created()}).when(update()).then({});
    c = update();
    c.title = " Analyst";
    spec().given({created()}).when(c).then({});
  }

  TEST_CASE("an update clears the first name and title, never the last name") {
    auto c = update();
    c.first_name = "";
    c.title = " ";
    spec().given({created()}).when(c).then({contact_updated{kAda, "", std::nullopt, ""}});
    c = update();
    c.last_name = "";
    spec().given({created()}).when(c).then_rejected(rejection_code::invalid, "last_name");
    c = update();
    c.title = "a\nb";
    spec().given({created()}).when(c).then_rejected(rejection_code::invalid, "title");
    c = update();
    c.first_name = std::string(201, 'f');
    spec().given({created()}).when(c).then_rejected(rejection_code::invalid, "first_name");
  }

  TEST_CASE("changing the company records from and to") {
    spec()
        .given({created()})
        .when(change_contact_company{kAda, kGlobex})
        .then({contact_company_changed{kAda, kAcme, kGlobex}});
    spec()
        .given({created()})
        .when(change_contact_company{kAda, std::nullopt})
        .then({contact_company_changed{kAda, kAcme, std::nullopt}});
    spec().given({created()}).when(change_contact_company{kAda, kAcme}).then({});
    spec()
        .given({created()})
        .when(change_contact_company{kAda, company_id{"no way"}})
        .then_rejected(rejection_code::invalid, "company_id");
  }

  TEST_CASE("adding an e-mail address") {
    spec()
        .given({created()})
        .when(add_contact_email{kAda, " Ada@Work.COM", false})
        .then({contact_email_added{kAda, {"ada@work.com", false}}});
    spec()
        .given({created()})
        .when(add_contact_email{kAda, "ada@work.com", true})
        .then({contact_email_added{kAda, {"ada@work.com", true}}});
    // The first address of a contact is its primary, asked or not.
    spec()
        .given({contact_created{kAda, "", "Lovelace", {}, {}, std::nullopt, "", kActor, {}}})
        .when(add_contact_email{kAda, "ada@work.com", false})
        .then({contact_email_added{kAda, {"ada@work.com", true}}});
    spec()
        .given({created()})
        .when(add_contact_email{kAda, "ada", false})
        .then_rejected(rejection_code::invalid, "address");
  }

  TEST_CASE("adding a known address is a no-op unless it is to become primary") {
    spec().given({created()}).when(add_contact_email{kAda, "ADA@home.org", false}).then({});
    spec().given({created()}).when(add_contact_email{kAda, "ada@example.com", true}).then({});
    spec()
        .given({created()})
        .when(add_contact_email{kAda, "ADA@home.org", true})
        .then({contact_primary_email_changed{kAda, "ada@example.com", "ada@home.org"}});
  }

  TEST_CASE("a contact has at most 20 e-mail addresses") {
    std::vector<contact_event> given{created()};
    for (const auto& a : many("a", kMaxContactEmails - 2, "@example.org")) {
      given.push_back(contact_email_added{kAda, {a, false}});
    }
    spec()
        .given(given)
        .when(add_contact_email{kAda, "one@too.many", false})
        .then_rejected(rejection_code::invalid, "address");
    spec().given(given).when(add_contact_email{kAda, "a3@example.org", false}).then({});
  }

  TEST_CASE("removing an address; removing the primary hands it to the next first") {
    spec()
        .given({created()})
        .when(remove_contact_email{kAda, "Ada@Home.org"})
        .then({contact_email_removed{kAda, "ada@home.org"}});
    spec()
        .given({created()})
        .when(remove_contact_email{kAda, "ada@example.com"})
        .then({contact_primary_email_changed{kAda, "ada@example.com", "ada@home.org"},
               contact_email_removed{kAda, "ada@example.com"}});
    spec()
        .given({created(), contact_email_removed{kAda, "ada@home.org"}})
        .when(remove_contact_email{kAda, "ada@example.com"})
        .then({contact_email_removed{kAda, "ada@example.com"}});
    spec()
        .given({created()})
        .when(remove_contact_email{kAda, "ada@elsewhere.org"})
        .then_rejected(rejection_code::invalid, "address");
  }

  TEST_CASE("setting the primary address") {
    spec()
        .given({created()})
        .when(set_primary_contact_email{kAda, "ADA@HOME.ORG"})
        .then({contact_primary_email_changed{kAda, "ada@example.com", "ada@home.org"}});
    spec().given({created()}).when(set_primary_contact_email{kAda, "ada@example.com"}).then({});
    spec()
        .given({created()})
        .when(set_primary_contact_email{kAda, "ada@elsewhere.org"})
        .then_rejected(rejection_code::invalid, "address");
  }

  TEST_CASE("adding a phone number; the same digits are the same number") {
    spec()
        .given({created()})
        .when(add_contact_phone{kAda, " +44 7700 900123 ", phone_label::mobile})
        .then({contact_phone_added{kAda, {"+44 7700 900123", phone_label::mobile}}});
    spec()
        .given({created()})
        .when(add_contact_phone{kAda, "+44 (20) 7946-0000", phone_label::work})
        .then({});
    spec()
        .given({created()})
        .when(add_contact_phone{kAda, "+44 (20) 7946-0000", phone_label::home})
        .then_rejected(rejection_code::invalid, "number");
    spec()
        .given({created()})
        .when(add_contact_phone{kAda, "555-CALL", phone_label::home})
        .then_rejected(rejection_code::invalid, "number");
    spec()
        .given({created()})
        .when(add_contact_phone{kAda, "+1 555 0100", static_cast<phone_label>(9)})
        .then_rejected(rejection_code::invalid, "label");
  }

  TEST_CASE("a contact has at most 20 phone numbers") {
    std::vector<contact_event> given{created()};
    for (const auto& n : many("+1 555 02", kMaxContactPhones - 1)) {
      given.push_back(contact_phone_added{kAda, {n, phone_label::other}});
    }
    spec()
        .given(given)
        .when(add_contact_phone{kAda, "+1 555 0999", phone_label::other})
        .then_rejected(rejection_code::invalid, "number");
  }

  TEST_CASE("removing a phone number matches it by its digits") {
    spec()
        .given({created()})
        .when(remove_contact_phone{kAda, "44 20 7946 0000"})
        .then({contact_phone_removed{kAda, "+44 20 7946 0000"}});
    spec()
        .given({created()})
        .when(remove_contact_phone{kAda, "+1 555 0100"})
        .then_rejected(rejection_code::invalid, "number");
  }

  TEST_CASE("assigning the owner records from and to; the same owner is a no-op") {
    spec()
        .given({created()})
        .when(assign_contact_owner{kAda, kOwner})
        .then({contact_owner_assigned{kAda, kActor, kOwner}});
    spec().given({created()}).when(assign_contact_owner{kAda, kActor}).then({});
    spec()
        .given({created()})
        .when(assign_contact_owner{kAda, user_id{""}})
        .then_rejected(rejection_code::invalid, "owner_id");
  }

  TEST_CASE("tags are normalized, unique regardless of case, at most 50 of at most 50 chars") {
    spec()
        .given({created()})
        .when(tag_contact{kAda, {"Speaker", "VIP", "speaker"}})
        .then({contact_tagged{kAda, {"speaker"}}});
    spec().given({created()}).when(tag_contact{kAda, {"Vip "}}).then({});
    spec()
        .given({created()})
        .when(tag_contact{kAda, {std::string(51, 'y')}})
        .then_rejected(rejection_code::invalid, "tags/0");
    auto tags = many("t", rules::kMaxTags - 1);
    spec().given({created()}).when(tag_contact{kAda, tags}).then({contact_tagged{kAda, tags}});
    tags.push_back("over");
    spec()
        .given({created()})
        .when(tag_contact{kAda, tags})
        .then_rejected(rejection_code::invalid, "tags");
    spec()
        .given({created()})
        .when(untag_contact{kAda, {"VIP", "absent"}})
        .then({contact_untagged{kAda, {"vip"}}});
    spec().given({created()}).when(untag_contact{kAda, {"absent"}}).then({});
  }

  TEST_CASE("consent is given per channel, at the command's time unless stated") {
    spec()
        .given({created()})
        .when(give_contact_consent{kAda, consent_channel::email_marketing, std::nullopt,
                                   " newsletter form "})
        .then({contact_consent_given{kAda, consent_channel::email_marketing, kNow,
                                     "newsletter form"}});
    spec()
        .given({created()})
        .when(give_contact_consent{kAda, consent_channel::sms_marketing, kLastWeek,
                                   "signed paper form"})
        .then({contact_consent_given{kAda, consent_channel::sms_marketing, kLastWeek,
                                     "signed paper form"}});
  }

  TEST_CASE("consent cannot be dated in the future or before the last decision") {
    spec()
        .given({created()})
        .when(give_contact_consent{kAda, consent_channel::phone_calls,
                                   kNow + std::chrono::seconds(1), ""})
        .then_rejected(rejection_code::invalid, "at");
    spec()
        .given(
            {created(), contact_consent_given{kAda, consent_channel::phone_calls, kYesterday, ""}})
        .when(withdraw_contact_consent{kAda, consent_channel::phone_calls, kLastWeek, ""})
        .then_rejected(rejection_code::invalid, "at");
    // Other channels keep their own history.
    spec()
        .given(
            {created(), contact_consent_given{kAda, consent_channel::phone_calls, kYesterday, ""}})
        .when(give_contact_consent{kAda, consent_channel::email_marketing, kLastWeek, ""})
        .then({contact_consent_given{kAda, consent_channel::email_marketing, kLastWeek, ""}});
  }

  TEST_CASE("consent validates its channel and source") {
    spec()
        .given({created()})
        .when(give_contact_consent{kAda, static_cast<consent_channel>(5), std::nullopt, ""})
        .then_rejected(rejection_code::invalid, "channel");
    spec()
        .given({created()})
        .when(give_contact_consent{kAda, consent_channel::email_marketing, std::nullopt,
                                   std::string(201, 's')})
        .then_rejected(rejection_code::invalid, "source");
    spec()
        .given({created()})
        .when(
            withdraw_contact_consent{kAda, consent_channel::email_marketing, std::nullopt, "a\x01"})
        .then_rejected(rejection_code::invalid, "source");
  }

  TEST_CASE("giving consent twice or withdrawing what was never given is a no-op") {
    const contact_event given =
        contact_consent_given{kAda, consent_channel::email_marketing, kYesterday, "form"};
    spec()
        .given({created(), given})
        .when(give_contact_consent{kAda, consent_channel::email_marketing, std::nullopt, "again"})
        .then({});
    spec()
        .given({created()})
        .when(withdraw_contact_consent{kAda, consent_channel::sms_marketing, std::nullopt, ""})
        .then({});
    spec()
        .given({created(), given})
        .when(withdraw_contact_consent{kAda, consent_channel::email_marketing, std::nullopt,
                                       "unsubscribe link"})
        .then({contact_consent_withdrawn{kAda, consent_channel::email_marketing, kNow,
                                         "unsubscribe link"}});
    spec()
        .given({created(), given,
                contact_consent_withdrawn{kAda, consent_channel::email_marketing, kNow, ""}})
        .when(withdraw_contact_consent{kAda, consent_channel::email_marketing, std::nullopt, ""})
        .then({});
  }

  TEST_CASE("an archived contact refuses changes, but consent can still be withdrawn") {
    const std::vector<contact_event> given{
        created(),
        contact_consent_given{kAda, consent_channel::email_marketing, kYesterday, "form"},
        contact_archived{kAda}};
    auto u = update();
    u.title = "CTO";
    for (contact_command c : std::vector<contact_command>{
             u, change_contact_company{kAda, kGlobex},
             add_contact_email{kAda, "a@example.com", false},
             remove_contact_email{kAda, "ada@home.org"},
             set_primary_contact_email{kAda, "ada@home.org"},
             add_contact_phone{kAda, "+1 555 0100", phone_label::work},
             remove_contact_phone{kAda, "+44 20 7946 0000"}, assign_contact_owner{kAda, kOwner},
             tag_contact{kAda, {"x"}}, untag_contact{kAda, {"vip"}},
             give_contact_consent{kAda, consent_channel::sms_marketing, std::nullopt, ""}}) {
      spec().given(given).when(c).then_rejected(rejection_code::invalid_state, "archived");
    }
    spec()
        .given(given)
        .when(withdraw_contact_consent{kAda, consent_channel::email_marketing, std::nullopt, ""})
        .then({contact_consent_withdrawn{kAda, consent_channel::email_marketing, kNow, ""}});
    spec().given(given).when(archive_contact{kAda}).then({});
    spec().given(given).when(restore_contact{kAda}).then({contact_restored{kAda}});
    spec().given({created()}).when(archive_contact{kAda}).then({contact_archived{kAda}});
    spec().given({created()}).when(restore_contact{kAda}).then({});
  }

  TEST_CASE("every event folds into the state") {
    auto s = fold({created()});
    CHECK(s.exists);
    CHECK(s.id == kAda);
    CHECK(s.first_name == "Ada");
    CHECK(s.last_name == "Lovelace");
    CHECK(s.primary_email()->address == "ada@example.com");
    CHECK(s.emails.size() == 2);
    CHECK(s.phones == std::vector<contact_phone>{{"+44 20 7946 0000", phone_label::work}});
    CHECK(s.company == kAcme);
    CHECK(s.title == "Analyst");
    CHECK(s.owner == kActor);
    CHECK(s.tags == std::vector<std::string>{"vip"});
    CHECK(s.consent(consent_channel::email_marketing) == consent_record{});
    CHECK_FALSE(s.archived);
    CHECK_FALSE(s.merged_into.has_value());

    s = fold({created(), contact_updated{kAda, "Augusta Ada", "King", ""},
              contact_company_changed{kAda, kAcme, std::nullopt},
              contact_email_added{kAda, {"ada@work.com", true}},
              contact_email_removed{kAda, "ada@home.org"},
              contact_primary_email_changed{kAda, "ada@work.com", "ada@example.com"},
              contact_phone_added{kAda, {"+44 7700 900123", phone_label::mobile}},
              contact_phone_removed{kAda, "+44 20 7946 0000"},
              contact_owner_assigned{kAda, kActor, kOwner},
              contact_tagged{kAda, {"speaker", "author"}}, contact_untagged{kAda, {"vip"}},
              contact_consent_given{kAda, consent_channel::sms_marketing, kLastWeek, "form"},
              contact_consent_given{kAda, consent_channel::phone_calls, kLastWeek, "call"},
              contact_consent_withdrawn{kAda, consent_channel::phone_calls, kYesterday, "call"},
              contact_archived{kAda}});
    CHECK(s.first_name == "Augusta Ada");
    CHECK(s.last_name == "King");
    CHECK(s.title.empty());
    CHECK_FALSE(s.company.has_value());
    CHECK(s.emails ==
          std::vector<contact_email>{{"ada@example.com", true}, {"ada@work.com", false}});
    CHECK(s.phones == std::vector<contact_phone>{{"+44 7700 900123", phone_label::mobile}});
    CHECK(s.owner == kOwner);
    CHECK(s.tags == std::vector<std::string>{"speaker", "author"});
    CHECK(s.consent(consent_channel::sms_marketing) == consent_record{true, kLastWeek, "form"});
    CHECK(s.consent(consent_channel::phone_calls) == consent_record{false, kYesterday, "call"});
    CHECK_FALSE(s.consent(consent_channel::email_marketing).granted);
    CHECK(s.archived);
    CHECK(fold({created(), contact_archived{kAda}, contact_restored{kAda}}).archived == false);
  }
}

TEST_SUITE("contact merge") {
  const command_context kCtx = test_context();

  TEST_CASE("the survivor absorbs only the addresses, numbers and tags it lacks") {
    const auto survivor = fold({created()});
    const auto d1 = duplicate(
        kDup1, {{"ADA@example.com", false}, {"ada@lab.org", true}},
        {{"+44 20 7946-0000", phone_label::home}, {"+44 7700 900123", phone_label::mobile}},
        {"vip", "speaker"});
    const auto d2 = duplicate(kDup2, {{"ada@lab.org", true}, {"a.king@example.com", false}}, {},
                              {"author", "speaker"});
    auto d = decide_merge(survivor, {d1, d2}, kCtx);
    REQUIRE(d.ok());
    const contact_event expected =
        contact_merged{kAda,
                       {kDup1, kDup2},
                       {{"ada@lab.org", false}, {"a.king@example.com", false}},
                       {{"+44 7700 900123", phone_label::mobile}},
                       {"speaker", "author"}};
    CHECK(d.events() == std::vector<contact_event>{expected});

    const auto after = evolve(survivor, d.events().front());
    CHECK(after.primary_email()->address == "ada@example.com");
    CHECK(after.emails.size() == 4);
    CHECK(after.phones.size() == 2);
    CHECK(after.tags == std::vector<std::string>{"vip", "speaker", "author"});
  }

  TEST_CASE("a survivor without an address takes the first duplicate's primary as its own") {
    const auto survivor = duplicate(kAda, {}, {}, {});
    const auto d1 = duplicate(kDup1, {{"ada@example.com", false}, {"ada@lab.org", true}}, {}, {});
    auto d = decide_merge(survivor, {d1}, kCtx);
    REQUIRE(d.ok());
    CHECK(d.events() ==
          std::vector<contact_event>{contact_merged{
              kAda, {kDup1}, {{"ada@lab.org", true}, {"ada@example.com", false}}, {}, {}}});
    CHECK(evolve(survivor, d.events().front()).primary_email()->address == "ada@lab.org");
  }

  TEST_CASE("merging records the duplicates even when nothing is absorbed") {
    const auto survivor = fold({created()});
    const auto d1 = duplicate(kDup1, {{"ada@example.com", true}}, {}, {"vip"});
    auto d = decide_merge(survivor, {d1}, kCtx);
    REQUIRE(d.ok());
    CHECK(d.events() == std::vector<contact_event>{contact_merged{kAda, {kDup1}, {}, {}, {}}});
  }

  TEST_CASE("archived duplicates can be merged") {
    auto d1 = duplicate(kDup1, {}, {}, {});
    d1 = evolve(d1, contact_archived{kDup1});
    CHECK(decide_merge(fold({created()}), {d1}, kCtx).ok());
  }

  TEST_CASE("merge rules on the duplicates, each rejection naming the duplicate") {
    const auto survivor = fold({created()});
    const auto d1 = duplicate(kDup1, {}, {}, {});
    auto rejected = [&](const std::vector<contact_state>& dups, rejection_code code,
                        const std::string& field) {
      auto d = decide_merge(survivor, dups, kCtx);
      REQUIRE_FALSE(d.ok());
      CHECK(d.error().code == code);
      CHECK(d.error().field == field);
      CHECK_FALSE(d.error().reason.empty());
    };
    rejected({}, rejection_code::invalid, "duplicates");
    rejected({d1, survivor}, rejection_code::invalid, "duplicates/1");
    rejected({d1, contact_state{}}, rejection_code::not_found, "duplicates/1");
    rejected({d1, d1}, rejection_code::invalid, "duplicates/1");
    rejected({evolve(d1, contact_merged_into{kDup1, kDup2})}, rejection_code::invalid_state,
             "duplicates/0");
    std::vector<contact_state> too_many;
    for (std::size_t i = 0; i <= kMaxMergeDuplicates; ++i) {
      too_many.push_back(duplicate(contact_id{"d" + std::to_string(i)}, {}, {}, {}));
    }
    rejected(too_many, rejection_code::invalid, "duplicates");
    too_many.pop_back();
    CHECK(decide_merge(survivor, too_many, kCtx).ok());
  }

  TEST_CASE("the survivor must exist, be active and not be merged itself") {
    const auto d1 = duplicate(kDup1, {}, {}, {});
    auto d = decide_merge(contact_state{}, {d1}, kCtx);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == rejection_code::not_found);
    d = decide_merge(fold({created(), contact_archived{kAda}}), {d1}, kCtx);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == rejection_code::invalid_state);
    CHECK(d.error().field == "archived");
    d = decide_merge(fold({created(), contact_merged_into{kAda, kDup2}}), {d1}, kCtx);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == rejection_code::invalid_state);
    CHECK(d.error().field == "merged_into");
  }

  TEST_CASE("a merge that would overflow the survivor's limits is refused") {
    const auto survivor = fold({created()});  // two addresses, one number, one tag
    std::vector<contact_email> emails;
    for (const auto& a : many("x", kMaxContactEmails - 1, "@example.com")) {
      emails.push_back({a, false});
    }
    auto d = decide_merge(survivor, {duplicate(kDup1, emails, {}, {})}, kCtx);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().field == "duplicates");
    emails.pop_back();
    CHECK(decide_merge(survivor, {duplicate(kDup1, emails, {}, {})}, kCtx).ok());

    std::vector<contact_phone> phones;
    for (const auto& n : many("+1 555 03", kMaxContactPhones)) {
      phones.push_back({n, phone_label::other});
    }
    d = decide_merge(survivor, {duplicate(kDup1, {}, phones, {})}, kCtx);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().field == "duplicates");

    d = decide_merge(
        survivor,
        {duplicate(kDup1, {}, {}, many("a", 30)), duplicate(kDup2, {}, {}, many("b", 20))}, kCtx);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().field == "duplicates");
  }

  TEST_CASE("each duplicate points at the survivor and then refuses every command") {
    const auto d1 = duplicate(kDup1, {{"ada@lab.org", true}}, {}, {});
    const contact_event e = merged_into(d1, kAda);
    CHECK(e == contact_event{contact_merged_into{kDup1, kAda}});
    const auto merged = evolve(d1, e);
    CHECK(merged.merged_into == kAda);

    const std::vector<contact_event> given{
        contact_created{
            kDup1, "", "Lovelace", {{"ada@lab.org", true}}, {}, std::nullopt, "", kActor, {}},
        contact_merged_into{kDup1, kAda}};
    auto u = update();
    u.contact = kDup1;
    u.title = "CTO";
    for (contact_command c : std::vector<contact_command>{
             u, change_contact_company{kDup1, kGlobex},
             add_contact_email{kDup1, "a@example.com", false},
             remove_contact_email{kDup1, "ada@lab.org"},
             set_primary_contact_email{kDup1, "ada@lab.org"},
             add_contact_phone{kDup1, "+1 555 0100", phone_label::work},
             remove_contact_phone{kDup1, "+1 555 0100"}, assign_contact_owner{kDup1, kOwner},
             tag_contact{kDup1, {"x"}}, untag_contact{kDup1, {"x"}},
             give_contact_consent{kDup1, consent_channel::sms_marketing, std::nullopt, ""},
             withdraw_contact_consent{kDup1, consent_channel::sms_marketing, std::nullopt, ""},
             archive_contact{kDup1}, restore_contact{kDup1}}) {
      spec().given(given).when(c).then_rejected(rejection_code::invalid_state, "merged_into");
    }
    spec().given(given).when(create()).then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("erasure: needs a reason, happens once, clears the personal fields and ends changes") {
    spec()
        .given({created()})
        .when(erase_contact{kAda, "  "})
        .then_rejected(rejection_code::invalid, "reason");
    spec()
        .given({created()})
        .when(erase_contact{kAda, std::string(kMaxErasureReasonLength + 1, 'x')})
        .then_rejected(rejection_code::invalid, "reason");
    spec().when(erase_contact{kAda, "request 17"}).then_rejected(rejection_code::not_found, "");
    spec()
        .given({created()})
        .when(erase_contact{kAda, " request 17 "})
        .then({contact_erased{kAda, "request 17"}});
    const std::vector<contact_event> erased{created(), contact_erased{kAda, "request 17"}};
    spec()
        .given(erased)
        .when(erase_contact{kAda, "again"})
        .then_rejected(rejection_code::invalid_state, "erased");
    spec()
        .given(erased)
        .when(update_contact{kAda, "Eve", {}, {}})
        .then_rejected(rejection_code::invalid_state, "erased");
    spec()
        .given(erased)
        .when(archive_contact{kAda})
        .then_rejected(rejection_code::invalid_state, "erased");
    // A contact merged into another holds its own data in its own events: it can be erased too.
    spec()
        .given({created(), contact_merged_into{kAda, contact_id{"k2"}}})
        .when(erase_contact{kAda, "request 17"})
        .then({contact_erased{kAda, "request 17"}});

    const auto s = fold({created(),
                         contact_consent_given{kAda, consent_channel::email_marketing, kNow,
                                               "web form of ada@example.com"},
                         contact_erased{kAda, "request 17"}});
    CHECK(s.exists);
    CHECK(s.erased);
    CHECK(s.first_name.empty());
    CHECK(s.last_name.empty());
    CHECK(s.title.empty());
    CHECK(s.emails.empty());
    CHECK(s.phones.empty());
    CHECK(s.consent(consent_channel::email_marketing).granted);
    CHECK(s.consent(consent_channel::email_marketing).source.empty());
  }

  TEST_CASE("a merge remembers its duplicates, and an erased one cannot be merged") {
    const auto survivor = fold({created(), contact_merged{kAda, {contact_id{"k2"}}, {}, {}, {}}});
    CHECK(survivor.merged_from == std::vector<contact_id>{contact_id{"k2"}});
    auto gone = duplicate(contact_id{"k2"}, {}, {}, {});
    gone = evolve(std::move(gone), contact_erased{contact_id{"k2"}, "request 17"});
    const auto d = decide_merge(fold({created()}), {gone}, test_context());
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().field == "duplicates/0");
  }
}

#include "domain/common/tags.hpp"
#include "domain/company/company_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

decider_spec<company_aggregate> spec() {
  return decider_spec<company_aggregate>([](const company_command& c, const company_state& s) {
    return decide(c, s, test_context());
  });
}

const company_id kAcme{"c1"};
const user_id kActor = test_context().actor;
const user_id kOwner{"u9"};
const postal_address kAddress{"1 Main St", "Springfield", "IL", "62701", "US"};

company_event created() {
  return company_created{
      kAcme,         "Acme",   "acme.com", "Manufacturing",       company_size::s51_200,
      "+1 555 0100", kAddress, kActor,     {"vip", "key account"}};
}

create_company create() {
  return create_company{
      kAcme,         "Acme",   "acme.com",   "Manufacturing",       company_size::s51_200,
      "+1 555 0100", kAddress, std::nullopt, {"VIP", "key account"}};
}

update_company update() {
  return update_company{kAcme, {}, {}, {}, {}, {}, {}};
}

std::vector<std::string> many_tags(std::size_t n) {
  std::vector<std::string> tags;
  for (std::size_t i = 0; i < n; ++i) tags.push_back("tag" + std::to_string(i));
  return tags;
}

}  // namespace

TEST_SUITE("company") {
  TEST_CASE("size bands have stable wire names that read back") {
    for (auto size : {company_size::unknown, company_size::s1_10, company_size::s11_50,
                      company_size::s51_200, company_size::s201_500, company_size::s501_1000,
                      company_size::s1001_5000, company_size::s5001_plus}) {
      company_size back = company_size::unknown;
      CHECK_FALSE(to_string(size).empty());
      CHECK(from_string(to_string(size), back));
      CHECK(back == size);
    }
    CHECK(to_string(company_size::s5001_plus) == "5001+");
    company_size out = company_size::s1_10;
    CHECK_FALSE(from_string("huge", out));
    CHECK(out == company_size::s1_10);
  }

  TEST_CASE("tags are trimmed, lowercased and their inner spaces collapsed") {
    CHECK(rules::normalized_tag("  Key \t  Account ") == "key account");
    CHECK(rules::normalized_tag("VIP") == "vip");
    CHECK(rules::check_tag("t", "  ").has_value());
    CHECK(rules::check_tag("t", std::string(51, 'x'))->field == "t");
    CHECK_FALSE(rules::check_tag("t", std::string(50, 'x')).has_value());
    CHECK(rules::check_tag("t", "a\x7f").has_value());
    std::vector<std::string> added;
    CHECK_FALSE(rules::tags_to_add("tags", {"vip"}, {"VIP", "new", " New ", "other"}, added));
    CHECK(added == std::vector<std::string>{"new", "other"});
    CHECK(rules::tags_to_remove({"vip", "new"}, {"NEW", "absent", "new"}) ==
          std::vector<std::string>{"new"});
  }

  TEST_CASE("creating a company normalizes every field and defaults the owner to the actor") {
    auto c = create();
    c.name = " Acme ";
    c.domain = " ACME.com";
    c.industry = "Manufacturing  ";
    c.phone = " +1 555 0100 ";
    c.address = {" 1 Main St ", "Springfield", " IL", "62701 ", "us"};
    c.tags = {"VIP", " Key   Account", "vip"};
    spec().when(c).then({created()});
  }

  TEST_CASE("a company needs only a name; the other fields may be empty") {
    spec()
        .when(create_company{kAcme, "Acme", "", "", company_size::unknown, "", {}, kOwner, {}})
        .then({company_created{kAcme, "Acme", "", "", company_size::unknown, "", {}, kOwner, {}}});
  }

  TEST_CASE("creation validates every field and names it") {
    auto rejected = [](create_company c, const std::string& field) {
      spec().when(std::move(c)).then_rejected(rejection_code::invalid, field);
    };
    auto c = create();
    c.company = company_id{"bad id"};
    rejected(c, "id");
    c = create();
    c.name = "";
    rejected(c, "name");
    c = create();
    c.domain = "https://acme.com";
    rejected(c, "domain");
    c = create();
    c.industry = std::string(101, 'x');
    rejected(c, "industry");
    c = create();
    c.size = static_cast<company_size>(99);
    rejected(c, "size");
    c = create();
    c.phone = "call me";
    rejected(c, "phone");
    c = create();
    c.address.city =
        "Spring\x01"
        "field";
    rejected(c, "address.city");
    c = create();
    c.address.country = "USA";
    rejected(c, "address.country");
    c = create();
    c.address.postal_code = std::string(21, '1');
    rejected(c, "address.postal_code");
    c = create();
    c.address.region = std::string(201, 'r');
    rejected(c, "address.region");
    c = create();
    c.address.street = std::string(501, 's');
    rejected(c, "address.street");
    c = create();
    c.owner = user_id{""};
    rejected(c, "owner_id");
    c = create();
    c.tags = {"ok", " "};
    rejected(c, "tags/1");
    c = create();
    c.tags = many_tags(51);
    rejected(c, "tags");
  }

  TEST_CASE("a street may span lines; other address parts may not") {
    auto c = create();
    c.address.street = "Building 4\n1 Main St";
    auto expected = std::get<company_created>(created());
    expected.address.street = c.address.street;
    spec().when(c).then({expected});
    c.address.city = "Spring\nfield";
    spec().when(c).then_rejected(rejection_code::invalid, "address.city");
  }

  TEST_CASE("web domains are lowercase host names") {
    for (const char* good : {"acme.com", "ACME.COM", "sub.acme.co.uk", "xn--bcher-kva.example",
                             "a-b.io", "1password.com"}) {
      CAPTURE(good);
      CHECK_FALSE(check_web_domain("domain", good).has_value());
    }
    for (const char* bad :
         {"acme", "acme.", ".acme.com", "acme..com", "-acme.com", "acme-.com", "acme.com/about",
          "http://acme.com", "acme com.org", "ac_me.com", "10.0.0.1", "user@acme.com"}) {
      CAPTURE(bad);
      auto r = check_web_domain("domain", bad);
      REQUIRE(r.has_value());
      CHECK(r->field == "domain");
    }
    CHECK(check_web_domain("domain", std::string(64, 'a') + ".com").has_value());
    CHECK_FALSE(check_web_domain("domain", std::string(63, 'a') + ".com").has_value());
    CHECK(normalized_web_domain(" Acme.COM ") == "acme.com");
  }

  TEST_CASE("a company is created once") {
    spec().given({created()}).when(create()).then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("commands on a missing company are not found") {
    for (company_command c : std::vector<company_command>{
             update(), assign_company_owner{kAcme, kOwner}, tag_company{kAcme, {"x"}},
             untag_company{kAcme, {"x"}}, archive_company{kAcme}, restore_company{kAcme}}) {
      spec().when(c).then_rejected(rejection_code::not_found, "");
    }
  }

  TEST_CASE("an update records only the fields that changed") {
    auto c = update();
    c.name = "Acme ";       // unchanged once trimmed
    c.domain = "ACME.COM";  // unchanged once normalized
    c.industry = "Robotics";
    c.size = company_size::s201_500;
    spec()
        .given({created()})
        .when(c)
        .then({company_updated{kAcme, std::nullopt, std::nullopt, "Robotics",
                               company_size::s201_500, std::nullopt, std::nullopt}});
  }

  TEST_CASE("an update that changes nothing is a no-op") {
    spec().given({created()}).when(update()).then({});
    auto c = update();
    c.name = "Acme";
    c.phone = "+1 555 0100";
    c.address = postal_address{"1 Main St ", "Springfield", "IL", "62701", "us"};
    spec().given({created()}).when(c).then({});
  }

  TEST_CASE("an update clears fields with an empty string, but never the name") {
    auto c = update();
    c.domain = "";
    c.phone = " ";
    c.address = postal_address{};
    spec()
        .given({created()})
        .when(c)
        .then({company_updated{kAcme, std::nullopt, "", std::nullopt, std::nullopt, "",
                               postal_address{}}});
    c = update();
    c.name = " ";
    spec().given({created()}).when(c).then_rejected(rejection_code::invalid, "name");
  }

  TEST_CASE("an update validates every field it names") {
    auto rejected = [](update_company c, const std::string& field) {
      spec().given({created()}).when(std::move(c)).then_rejected(rejection_code::invalid, field);
    };
    auto c = update();
    c.domain = "acme";
    rejected(c, "domain");
    c = update();
    c.industry = "a\tb";
    rejected(c, "industry");
    c = update();
    c.size = static_cast<company_size>(-3);
    rejected(c, "size");
    c = update();
    c.phone = "12";
    rejected(c, "phone");
    c = update();
    c.address = postal_address{"", "", "", "", "D"};
    rejected(c, "address.country");
    // A bad field refuses the whole update, including the good fields next to it.
    c = update();
    c.industry = "Robotics";
    c.phone = "nope";
    rejected(c, "phone");
  }

  TEST_CASE("assigning the owner records from and to; the same owner is a no-op") {
    spec()
        .given({created()})
        .when(assign_company_owner{kAcme, kOwner})
        .then({company_owner_assigned{kAcme, kActor, kOwner}});
    spec().given({created()}).when(assign_company_owner{kAcme, kActor}).then({});
    spec()
        .given({created()})
        .when(assign_company_owner{kAcme, user_id{"no good"}})
        .then_rejected(rejection_code::invalid, "owner_id");
  }

  TEST_CASE("tagging records only new tags; known tags are a no-op") {
    spec()
        .given({created()})
        .when(tag_company{kAcme, {"VIP", "Partner", "partner "}})
        .then({company_tagged{kAcme, {"partner"}}});
    spec().given({created()}).when(tag_company{kAcme, {"Key Account", "vip"}}).then({});
    spec()
        .given({created()})
        .when(tag_company{kAcme, {std::string(51, 'x')}})
        .then_rejected(rejection_code::invalid, "tags/0");
  }

  TEST_CASE("a company carries at most 50 tags") {
    auto tags = many_tags(48);  // with the two of created(): 50
    spec().given({created()}).when(tag_company{kAcme, tags}).then({company_tagged{kAcme, tags}});
    tags.push_back("one too many");
    spec()
        .given({created()})
        .when(tag_company{kAcme, tags})
        .then_rejected(rejection_code::invalid, "tags");
  }

  TEST_CASE("untagging removes only tags that are there") {
    spec()
        .given({created()})
        .when(untag_company{kAcme, {"VIP", "absent"}})
        .then({company_untagged{kAcme, {"vip"}}});
    spec().given({created()}).when(untag_company{kAcme, {"absent"}}).then({});
  }

  TEST_CASE("an archived company refuses changes until restored") {
    const std::vector<company_event> given{created(), company_archived{kAcme}};
    auto c = update();
    c.industry = "Robotics";
    for (company_command cmd :
         std::vector<company_command>{c, assign_company_owner{kAcme, kOwner},
                                      tag_company{kAcme, {"x"}}, untag_company{kAcme, {"vip"}}}) {
      spec().given(given).when(cmd).then_rejected(rejection_code::invalid_state, "archived");
    }
    spec().given(given).when(archive_company{kAcme}).then({});
    spec().given(given).when(restore_company{kAcme}).then({company_restored{kAcme}});
    spec().given({created()}).when(archive_company{kAcme}).then({company_archived{kAcme}});
    spec().given({created()}).when(restore_company{kAcme}).then({});
  }

  TEST_CASE("every event folds into the state") {
    auto s = spec();
    s.given({created()});
    auto st = s.state();
    CHECK(st.exists);
    CHECK(st.id == kAcme);
    CHECK(st.name == "Acme");
    CHECK(st.domain == "acme.com");
    CHECK(st.industry == "Manufacturing");
    CHECK(st.size == company_size::s51_200);
    CHECK(st.phone == "+1 555 0100");
    CHECK(st.address == kAddress);
    CHECK(st.owner == kActor);
    CHECK(st.tags == std::vector<std::string>{"vip", "key account"});
    CHECK_FALSE(st.archived);

    const postal_address moved{"2 Side St", "Shelbyville", "IL", "62565", "US"};
    s.given({created(),
             company_updated{kAcme, "Acme Corp", "acme.io", "", company_size::s501_1000,
                             "+1 555 0199", moved},
             company_owner_assigned{kAcme, kActor, kOwner}, company_tagged{kAcme, {"partner"}},
             company_untagged{kAcme, {"vip"}}, company_archived{kAcme}});
    st = s.state();
    CHECK(st.name == "Acme Corp");
    CHECK(st.domain == "acme.io");
    CHECK(st.industry.empty());
    CHECK(st.size == company_size::s501_1000);
    CHECK(st.phone == "+1 555 0199");
    CHECK(st.address == moved);
    CHECK(st.owner == kOwner);
    CHECK(st.tags == std::vector<std::string>{"key account", "partner"});
    CHECK(st.archived);

    // An update with no fields leaves everything as it was.
    s.given({created(), company_updated{kAcme, {}, {}, {}, {}, {}, {}}, company_archived{kAcme},
             company_restored{kAcme}});
    st = s.state();
    CHECK(st.name == "Acme");
    CHECK(st.address == kAddress);
    CHECK_FALSE(st.archived);
  }
}

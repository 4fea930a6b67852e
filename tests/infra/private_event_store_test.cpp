// Personal fields sealed in the log on both backends: contacts' and leads' names, addresses and
// numbers are stored sealed and read back opened; once the person is erased they read as erased,
// while the stored bytes, and so the hash chain, stay as they were.
#include "infra/privacy/private_event_store.hpp"

#include <doctest/doctest.h>

#include "domain/contact/contact_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "infra/audit/chain_verify.hpp"
#include "infra/event_codec.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::domain;
using infra::privacy::private_event_store;
using infra::privacy::subject_key_store;

namespace {

constexpr std::string_view kCanaries[] = {"Quillfeather", "Zanzibarre", "canary.person@example.org",
                                          "+44 20 7946 0958", "Chief Canary Officer"};

contact_created canary_contact(const std::string& id) {
  return contact_created{contact_id{id},
                         "Zanzibarre",
                         "Quillfeather",
                         {{"canary.person@example.org", true}},
                         {{"+44 20 7946 0958", phone_label::work}},
                         std::nullopt,
                         "Chief Canary Officer",
                         user_id{"u-1"},
                         {"vip"}};
}

template <class Event>
infra::stream_write write_of(const std::string& stream, const Event& event, int n) {
  return {stream,
          std::nullopt,
          {infra::encode_event(event, stream + "-e" + std::to_string(n), "{\"actor\":\"u-1\"}")}};
}

bool holds_canary(std::string_view text) {
  for (const auto c : kCanaries) {
    if (text.find(c) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE_TEMPLATE(
    "private store: personal fields sealed as stored, opened as read, erased for good", B,
    testing::sqlite_backend, testing::postgres_backend) {
  auto backend = B::make_store_and_database();
  auto& raw = *backend.store;
  subject_key_store keys(*backend.db);
  private_event_store store(raw, keys);

  const auto contact = canary_contact("c-1");
  store.append(write_of("contact-c-1", contact, 1));
  store.append(
      write_of("contact-c-1",
               contact_email_added{contact_id{"c-1"}, {"second.canary@example.org", false}}, 2));
  store.append(write_of("contact-c-1", contact_tagged{contact_id{"c-1"}, {"gold"}}, 3));
  const lead_created lead{lead_id{"l-1"},
                          "Zanzibarre Quillfeather",
                          "canary.person@example.org",
                          "+44 20 7946 0958",
                          "Canary Ltd",
                          lead_source::web,
                          user_id{"u-1"}};
  store.append(write_of("lead-l-1", lead, 1));
  const deal_renamed deal{deal_id{"d-1"}, "Quillfeather renewal"};
  store.append(write_of("deal-d-1", deal, 1));

  // As stored: nothing personal in the contact's or the lead's events; other streams as written.
  for (const auto& e : raw.read_all(0, 100)) {
    if (e.stream_id == "deal-d-1") {
      CHECK(e.data.find("Quillfeather renewal") != std::string::npos);
      continue;
    }
    CHECK_MESSAGE(!holds_canary(e.data), e.data);
    CHECK(e.data.find("second.canary") == std::string::npos);
  }
  CHECK(raw.read_stream("contact-c-1")[0].data.find("sealed:v1:") != std::string::npos);
  CHECK(raw.read_stream("lead-l-1")[0].data.find("Canary Ltd") !=
        std::string::npos);  // not personal

  // As read: the events as they were written, through every read.
  const auto opened = store.read_stream("contact-c-1");
  REQUIRE(opened.size() == 3);
  CHECK(infra::decode_event<contact_event>(opened[0]) == contact_event{contact});
  CHECK(
      std::get<contact_email_added>(infra::decode_event<contact_event>(opened[1])).email.address ==
      "second.canary@example.org");
  const auto all = store.read_all(0, 100);
  REQUIRE(all.size() == 5);
  CHECK(infra::decode_event<lead_event>(all[3]) == lead_event{lead});

  SUBCASE("an erased person's fields read as erased; the log still verifies") {
    REQUIRE(keys.erase("contact-c-1", {infra::timestamp{}, "admin", "request 17"}));
    const auto after = store.read_stream("contact-c-1");
    const auto created = std::get<contact_created>(infra::decode_event<contact_event>(after[0]));
    CHECK(created.first_name == "[erased]");
    CHECK(created.last_name == "[erased]");
    CHECK(created.title == "[erased]");
    CHECK(created.emails.at(0).address == "[erased]");
    CHECK(created.emails.at(0).primary);
    CHECK(created.phones.at(0).number == "[erased]");
    CHECK(created.tags == std::vector<std::string>{"vip"});
    CHECK(created.owner == user_id{"u-1"});
    for (const auto& e : store.read_all(0, 100)) {
      if (e.stream_id == "contact-c-1") CHECK_MESSAGE(!holds_canary(e.data), e.data);
    }
    // The lead is another subject: untouched.
    CHECK(infra::decode_event<lead_event>(store.read_stream("lead-l-1")[0]) == lead_event{lead});

    CHECK_THROWS_AS(
        store.append(write_of("contact-c-1", contact_updated{contact_id{"c-1"}, "New", {}, {}}, 4)),
        infra::privacy::subject_erased);
    CHECK(raw.stream_version("contact-c-1") == 3);
    // What carries nothing personal is still written: the erasure's own record, for one.
    store.append(write_of("contact-c-1", contact_erased{contact_id{"c-1"}, "request 17"}, 5));
    CHECK(infra::audit::verify_chain(raw).ok());
  }

  SUBCASE("a sealed field moved to another field or person does not open") {
    auto stored = raw.read_stream("contact-c-1")[0];
    const auto first = keys.find("contact-c-1");
    REQUIRE(first);
    // No lead field there: nothing to open.
    CHECK(infra::privacy::open_personal_fields("lead.created.v1", stored.data, &*first,
                                               "lead-l-1") == stored.data);
    CHECK_THROWS_AS(infra::privacy::open_personal_fields("contact.created.v1", stored.data, &*first,
                                                         "contact-c-2"),
                    infra::corrupt_event);
  }

  SUBCASE("texts stored before sealing began read as they are") {
    raw.append(write_of("contact-c-9", canary_contact("c-9"), 1));
    CHECK(infra::decode_event<contact_event>(store.read_stream("contact-c-9")[0]) ==
          contact_event{canary_contact("c-9")});
  }
}

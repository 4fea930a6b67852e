// The inbound webhooks over HTTP on both backends, fed the recorded sample payloads signed with
// test secrets: an e-mail, a meeting, an SMS and a call each become one activity on the contact
// whose address or number matches (written differently); the same message twice is one activity;
// a bad or stale signature is 401 and records nothing; unknown providers, malformed payloads and
// messages no contact matches.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>

#include "api/integrations/form_fields.hpp"
#include "api/integrations/inbound_log.hpp"
#include "api/integrations/twilio_provider.hpp"
#include "tests/api/crm/crm_fixture.hpp"
#include "tests/api/integrations/inbound_samples.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using namespace realmkit::test::inbound;
using realmkit::api::integrations::activity_id_for;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

constexpr const char* kMailgunKey = "mg-test-signing-key-0b1c2d3e";
constexpr const char* kCalendlyKey = "cal-test-signing-key-4f5a6b7c";
constexpr const char* kTwilioToken = "twilio-test-auth-token-8d9e0f1a";
constexpr const char* kPublicUrl = "https://crm.example.com";
constexpr const char* kMailgunToken = "5f3c9a1e07b24d6c8e2f41a0b9d3c7e6a18f0b2c4d5e6f7081";
constexpr const char* kFormType = "application/x-www-form-urlencoded";
constexpr const char* kMessageId = "CAJ7q+Lx3Rz9o5Q2pWkTq1bYc8vE4sN6dF0gH@mail.example.com";

using headers = std::vector<std::pair<std::string, std::string>>;

// The webhooks' clock: the system's, moved by `skew_seconds` (a late delivery).
struct test_clock {
  std::shared_ptr<std::atomic<std::int64_t>> skew_seconds =
      std::make_shared<std::atomic<std::int64_t>>(0);
  domain::timestamp operator()() const {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now()) +
           std::chrono::seconds{skew_seconds->load()};
  }
};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

fixture_options with_webhooks(const test_clock& clock) {
  fixture_options o;
  o.inbound = api::integrations::inbound_options{
      .secrets = {{"mailgun", kMailgunKey}, {"calendly", kCalendlyKey}, {"twilio", kTwilioToken}},
      .public_url = kPublicUrl};
  o.inbound_clock = clock;
  return o;
}

reply post_mailgun(crm_fixture& f, const std::string& form) {
  return f.call("POST", "/api/integrations/mailgun/webhook", "", form,
                {{"Content-Type", kFormType}});
}

std::string mailgun_form(std::int64_t signed_at = unix_now(),
                         const std::string& key = kMailgunKey) {
  return mailgun_signed(sample("mailgun_inbound.form"), kMailgunToken, key, signed_at);
}

reply post_calendly(crm_fixture& f, const std::string& body, std::int64_t signed_at = unix_now(),
                    const std::string& key = kCalendlyKey) {
  return f.call("POST", "/api/integrations/calendly/webhook", "", body,
                {{"Content-Type", "application/json"},
                 {"Calendly-Webhook-Signature", calendly_header(body, key, signed_at)}});
}

reply post_twilio(crm_fixture& f, const std::string& form,
                  const std::string& token = kTwilioToken) {
  const auto path = std::string("/api/integrations/twilio/webhook");
  const auto fields = api::integrations::parse_urlencoded(form);
  REQUIRE(fields);
  const auto signature =
      api::integrations::twilio_signature(token, std::string(kPublicUrl) + path, fields->all());
  return f.call("POST", path, "", form,
                {{"Content-Type", kFormType}, {"X-Twilio-Signature", signature}});
}

// The first (only) item of a webhook's JSON answer.
const rapidjson::Value& item_of(const reply& r) {
  REQUIRE_MESSAGE(r.status == 200, r.body);
  REQUIRE(r.json["items"].IsArray());
  REQUIRE(r.json["items"].Size() == 1);
  return r.json["items"][0];
}

std::string text(const rapidjson::Value& v, const char* name) {
  return v.HasMember(name) && v[name].IsString() ? v[name].GetString() : std::string();
}

std::string contact_with(crm_fixture& f, const std::string& owner, const std::string& body) {
  const auto r = f.call("POST", "/api/contacts", owner, body);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  const auto id = r.str("id");
  // The duplicates read model, which matching reads, has applied it.
  const auto settled = f.call(
      "GET", "/api/contacts/" + id + "/duplicates?min_position=" + std::to_string(f.head()), owner);
  REQUIRE_MESSAGE(settled.status == 200, settled.body);
  return id;
}

reply activity(crm_fixture& f, const std::string& id, const std::string& user) {
  f.sync();
  return f.call("GET", "/api/activities/" + id, user);
}

std::size_t activities_about(crm_fixture& f, const std::string& contact, const std::string& user) {
  f.sync();
  const auto r = f.call("GET", "/api/activities?subject=contact:" + contact, user);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json["items"].Size();
}

reply unmatched(crm_fixture& f) {
  auto r = f.call("GET", "/api/integrations/unmatched", f.admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r;
}

}  // namespace

TEST_CASE_TEMPLATE(
    "inbound e-mail: logged once on the contact, refused unsigned, kept when unmatched", B,
    sqlite_backend, postgres_backend) {
  test_clock clock;
  crm_fixture f(B::make_store_and_database(), with_webhooks(clock));
  const auto& rep = f.a.rep;
  // The sample comes from "Ana.Lopez@Example.com": the same mailbox, written otherwise.
  const auto ana = contact_with(
      f, rep,
      R"({"first_name":"Ana","last_name":"López","emails":[{"address":"ana.lopez@example.com"}]})");
  const auto expected_id = activity_id_for("mailgun", kMessageId);

  SUBCASE("a bad signature, a stale one, none: 401 and nothing recorded") {
    const auto before = f.head();
    auto r = post_mailgun(f, mailgun_form(unix_now(), "not-the-signing-key"));
    check_problem(r, 401, "unauthorized");
    r = post_mailgun(f, mailgun_form(unix_now() - 600));  // signed ten minutes ago
    check_problem(r, 401, "unauthorized");
    clock.skew_seconds->store(-400);  // a request from the future, as our clock sees it
    r = post_mailgun(f, mailgun_form());
    check_problem(r, 401, "unauthorized");
    clock.skew_seconds->store(0);
    r = post_mailgun(f, replaced(sample("mailgun_inbound.form"), "{{signature}}", ""));
    check_problem(r, 401, "unauthorized");
    CHECK(f.head() == before);
    CHECK(unmatched(f).json["items"].Size() == 0);
    CHECK(activities_about(f, ana, rep) == 0);
    const auto metrics = f.metrics().expose();
    CHECK(
        metrics.find(R"(realmkit_inbound_webhooks_total{provider="mailgun",stage="rejected"} 4)") !=
        std::string::npos);
    CHECK(metrics.find(R"(realmkit_inbound_rejected_total{provider="mailgun",reason="stale"} 2)") !=
          std::string::npos);
  }

  SUBCASE("valid: one e-mail activity on Ana, owned by her owner; the same message twice, one") {
    auto r = post_mailgun(f, mailgun_form());
    const auto& first = item_of(r);
    CHECK(text(first, "outcome") == "logged");
    CHECK(text(first, "activity_id") == expected_id);
    CHECK(text(first, "contact_id") == ana);
    CHECK(text(first, "message_id") == kMessageId);
    const auto logged = activity(f, expected_id, rep);
    REQUIRE_MESSAGE(logged.status == 200, logged.body);
    CHECK(logged.str("type") == "email");
    CHECK(logged.str("summary") == "Re: Proposal for the Q1 rollout");
    CHECK(logged.str("owner_id") == rep);
    CHECK(std::string(logged.json["subject"]["id"].GetString()) == ana);
    CHECK(logged.str("occurred_at") == "2026-11-28T08:14:03.000000Z");
    CHECK(logged.str("body").starts_with("Hi Sam,\n\nThanks for the proposal."));

    // Mailgun retries (a timeout on its side): the same answer, no new event.
    const auto head = f.head();
    r = post_mailgun(f, mailgun_form());
    const auto& again = item_of(r);
    CHECK(text(again, "outcome") == "duplicate");
    CHECK(text(again, "activity_id") == expected_id);
    CHECK(f.head() == head);
    CHECK(activities_about(f, ana, rep) == 1);

    // Its delivered copy of an e-mail sent to Ana logs the sent e-mail, as sent.
    const auto delivered = mailgun_signed(sample("mailgun_delivered.json"),
                                          "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
                                          kMailgunKey, unix_now());
    r = f.call("POST", "/api/integrations/mailgun/webhook", "", delivered,
               {{"Content-Type", "application/json"}});
    CHECK(text(item_of(r), "outcome") == "logged");
    CHECK(activities_about(f, ana, rep) == 2);
    CHECK(f.metrics().expose().find(
              R"(realmkit_inbound_messages_total{outcome="duplicate",provider="mailgun"} 1)") !=
          std::string::npos);
  }

  SUBCASE("from nobody we know: 200, kept for admins, no activity") {
    auto form = replaced(mailgun_form(), "Ana.Lopez%40Example.com", "someone%40elsewhere.example");
    form = replaced(form, "sam%40acme-sales.example", "sam%40elsewhere.example");
    form = replaced(form, "crm%40inbound.acme-sales.example", "crm%40elsewhere.example");
    const auto before = f.head();
    auto r = post_mailgun(f, form);
    const auto& item = item_of(r);
    CHECK(text(item, "outcome") == "unmatched");
    CHECK(item["activity_id"].IsNull());
    r = post_mailgun(f, form);  // retried: still one row
    CHECK(text(item_of(r), "outcome") == "unmatched");
    CHECK(f.head() == before);
    const auto listed = unmatched(f);
    REQUIRE(listed.json["items"].Size() == 1);
    const auto& row = listed.json["items"][0];
    CHECK(text(row, "provider") == "mailgun");
    CHECK(text(row, "message_id") == kMessageId);
    CHECK(text(row, "kind") == "email");
    CHECK(text(row, "summary") == "Re: Proposal for the Q1 rollout");
    CHECK(std::string(row["addresses"][0].GetString()) == "someone@elsewhere.example");
    // Admins only: the messages are nobody's records.
    CHECK(f.call("GET", "/api/integrations/unmatched", f.a.manager).status == 403);
  }

  SUBCASE("unknown or disabled providers 404; malformed payloads 4xx naming the field") {
    auto r = f.call("POST", "/api/integrations/hubspot/webhook", "", "{}");
    check_problem(r, 404, "not-found");
    const auto before = f.head();
    const auto no_id = mailgun_signed(
        "from=ana%40example.com&subject=Hi&timestamp={{timestamp}}&token=t1&signature={{signature}"
        "}",
        "t1", kMailgunKey, unix_now());
    r = post_mailgun(f, no_id);
    check_problem(r, 422, "validation", "Message-Id");
    r = post_calendly(f, "{\"event\": ");
    check_problem(r, 400, "malformed-json");
    r = post_calendly(f, R"({"event":"invitee.created","payload":{"uri":"u1"}})");
    check_problem(r, 422, "validation", "payload.scheduled_event");
    const auto typed =
        mailgun_signed(sample("mailgun_inbound.form"), kMailgunToken, kMailgunKey, unix_now());
    r = f.call("POST", "/api/integrations/mailgun/webhook", "", typed,
               {{"Content-Type", "text/plain"}});
    check_problem(r, 401, "unauthorized");  // no form: no signature to find
    CHECK(f.head() == before);

    // A provider without a secret is disabled: it answers as an unknown one.
    api::integrations::inbound_webhooks disabled({.secrets = {{"mailgun", ""}}}, f.handler(),
                                                 f.database(), clock, nullptr);
    api::http_request request;
    request.method = "POST";
    request.path_params.emplace("provider", "mailgun");
    request.body = mailgun_form();
    request.headers.emplace("Content-Type", kFormType);
    CHECK(disabled.enabled().empty());
    try {
      (void)disabled.handle(request);
      FAIL("served");
    } catch (const api::problem_error& e) {
      CHECK(e.get().status == 404);
    }
  }
}

TEST_CASE_TEMPLATE("inbound meetings, SMS and calls: matched by address or number, idempotent", B,
                   sqlite_backend, postgres_backend) {
  test_clock clock;
  crm_fixture f(B::make_store_and_database(), with_webhooks(clock));
  const auto& rep = f.b.rep;
  // Calendly's invitee writes "ANA.LOPEZ@example.com"; Twilio sends "+14155550132".
  const auto ana = contact_with(
      f, rep,
      R"({"first_name":"Ana","last_name":"López","emails":[{"address":"ana.lopez@example.com"}],)"
      R"("phones":[{"number":"(415) 555-0132"}]})");

  SUBCASE("calendly: booked, then canceled, each delivered twice") {
    const auto created = sample("calendly_invitee_created.json");
    auto r = post_calendly(f, created);
    const auto id = text(item_of(r), "activity_id");
    CHECK(text(item_of(r), "outcome") == "logged");
    CHECK(id == activity_id_for("calendly",
                                "https://api.calendly.com/scheduled_events/GHQ2X4KDL3MRYT5P/"
                                "invitees/AB3KQ7XW2M9PLR4T"));
    auto a = activity(f, id, rep);
    REQUIRE_MESSAGE(a.status == 200, a.body);
    CHECK(a.str("type") == "meeting");
    CHECK(a.str("summary") == "30 Minute Discovery Call");
    CHECK(a.str("occurred_at") == "2026-12-02T15:00:00.000000Z");
    CHECK(a.integer("duration_minutes") == 30);
    CHECK(a.str("owner_id") == rep);
    r = post_calendly(f, created);
    CHECK(text(item_of(r), "outcome") == "duplicate");

    const auto canceled = sample("calendly_invitee_canceled.json");
    r = post_calendly(f, canceled);
    CHECK(text(item_of(r), "outcome") == "updated");
    CHECK(text(item_of(r), "activity_id") == id);
    const auto head = f.head();
    r = post_calendly(f, canceled);
    CHECK(text(item_of(r), "outcome") == "duplicate");
    CHECK(f.head() == head);
    a = activity(f, id, rep);
    CHECK(a.str("summary") == "Canceled: 30 Minute Discovery Call");
    CHECK(activities_about(f, ana, rep) == 1);

    // Signed with another key, or too long ago: refused.
    check_problem(post_calendly(f, created, unix_now(), "another-key"), 401, "unauthorized");
    check_problem(post_calendly(f, created, unix_now() - 301), 401, "unauthorized");
  }

  SUBCASE("twilio: an SMS and a call, each once, answered in TwiML") {
    const auto sms = sample("twilio_sms_inbound.form");
    auto r = post_twilio(f, sms);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.header("Content-Type").starts_with("text/xml"));
    CHECK(r.body.find("<Response></Response>") != std::string::npos);
    CHECK(r.header("X-Inbound-Outcome") == "logged");
    const auto sms_id = r.header("X-Inbound-Activity");
    CHECK(sms_id == activity_id_for("twilio", "SM5c1f0e2a9b7d4e3f8a6b2c1d0e9f8a7b"));
    auto a = activity(f, sms_id, rep);
    REQUIRE_MESSAGE(a.status == 200, a.body);
    CHECK(a.str("type") == "sms");
    CHECK(a.str("summary") == "SMS from +14155550132");
    CHECK(a.str("body") == "Running 10 min late for our call, sorry! \xE2\x80\x93 Ana");
    CHECK(std::string(a.json["subject"]["id"].GetString()) == ana);

    const auto head = f.head();
    r = post_twilio(f, sms);
    CHECK(r.header("X-Inbound-Outcome") == "duplicate");
    CHECK(r.header("X-Inbound-Activity") == sms_id);
    CHECK(f.head() == head);

    r = post_twilio(f, sample("twilio_call_completed.form"));
    CHECK(r.header("X-Inbound-Outcome") == "logged");
    a = activity(f, r.header("X-Inbound-Activity"), rep);
    CHECK(a.str("type") == "call");
    CHECK(a.integer("duration_minutes") == 5);
    CHECK(a.str("occurred_at") == "2026-11-28T10:22:18.000000Z");
    CHECK(activities_about(f, ana, rep) == 2);

    // A call still ringing is acknowledged and not recorded.
    const auto head2 = f.head();
    r = post_twilio(f, replaced(sample("twilio_call_completed.form"), "CallStatus=completed",
                                "CallStatus=ringing"));
    CHECK(r.status == 200);
    CHECK(r.header("X-Inbound-Outcome") == "ignored");
    CHECK(f.head() == head2);

    // Signed with another token: 401, nothing recorded.
    const auto other =
        replaced(sms, "SM5c1f0e2a9b7d4e3f8a6b2c1d0e9f8a7b", "SM00000000000000000000000000000001");
    r = post_twilio(f, other, "not-the-auth-token");
    check_problem(r, 401, "unauthorized");
    CHECK(f.head() == head2);
    CHECK(unmatched(f).json["items"].Size() == 0);
  }
}

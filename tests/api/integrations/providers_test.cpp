// The providers alone, without a server: each signature scheme against known vectors (Twilio's
// documented example; HMACs computed independently for Mailgun and Calendly), stale and missing
// signatures, and what each recorded sample payload parses into.
#include <doctest/doctest.h>

#include "api/integrations/calendly_provider.hpp"
#include "api/integrations/form_fields.hpp"
#include "api/integrations/inbound_log.hpp"
#include "api/integrations/inbound_webhooks.hpp"
#include "api/integrations/mailgun_provider.hpp"
#include "api/integrations/twilio_provider.hpp"
#include "api/problem.hpp"
#include "infra/json/json_time.hpp"
#include "tests/api/integrations/inbound_samples.hpp"

using namespace realmkit;
using namespace realmkit::api::integrations;
using realmkit::test::inbound::sample;

namespace {

constexpr std::string_view kMailgunKey = "mg-signing-key-4f1c2e9a7b3d5e6f";
constexpr std::string_view kMailgunToken = "5f3c9a1e07b24d6c8e2f41a0b9d3c7e6a18f0b2c4d5e6f7081";
constexpr std::string_view kForm = "application/x-www-form-urlencoded";

domain::timestamp at_unix(std::int64_t seconds) {
  return domain::timestamp{std::chrono::seconds{seconds}};
}

domain::timestamp at(std::string_view rfc3339) {
  return *infra::parse_timestamp(rfc3339);
}

struct request_of {
  api::header_map headers;
  std::string body;
  std::string url = "https://crm.example.com/api/integrations/x/webhook";
  webhook_request get() const { return {headers, body, url}; }
};

std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [n, v] : fields) {
    if (!out.empty()) out += '&';
    out += n + "=" + v;
  }
  return out;
}

}  // namespace

TEST_CASE("mailgun: hex HMAC-SHA-256 of timestamp + token under the signing key") {
  const mailgun_provider mailgun;
  request_of r;
  r.headers.emplace("Content-Type", std::string(kForm));
  // Computed independently (Python's hmac) for this key, timestamp and token.
  const std::string good = "c485b6c5c24c365992d2ed92331b21ce832ec984e61c2d3a776bba9bb8134aa5";
  auto with = [&](std::string_view ts, std::string_view sig) {
    return form_body({{"timestamp", std::string(ts)},
                      {"token", std::string(kMailgunToken)},
                      {"signature", std::string(sig)}});
  };
  r.body = with("1795857243", good);
  CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).ok);
  CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243 + 299)).ok);

  SUBCASE("another key, a changed token or timestamp, a truncated signature: mismatch") {
    CHECK(mailgun.verify(r.get(), "another-key", at_unix(1795857243)).reason == "mismatch");
    r.body = with("1795857244", good);
    CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).reason == "mismatch");
    r.body = with("1795857243", good.substr(0, 63));
    CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).reason == "mismatch");
    r.body = with("1795857243", "C485B6C5C24C365992D2ED92331B21CE832EC984E61C2D3A776BBA9BB8134AA5");
    CHECK_FALSE(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).ok);
  }
  SUBCASE("older or newer than five minutes: stale, even when signed right") {
    CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243 + 301)).reason == "stale");
    CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243 - 301)).reason == "stale");
  }
  SUBCASE("no signature fields, or a timestamp that is no number") {
    r.body = "timestamp=1795857243&token=abc";
    CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).reason == "missing");
    r.body = with("17958x7243", good);
    CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).reason == "malformed");
    r.headers.clear();
    CHECK_FALSE(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).ok);
  }
  SUBCASE("the JSON form of event webhooks carries it in a signature object") {
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"signature":{"timestamp":"1795857243","token":")" + std::string(kMailgunToken) +
             R"(","signature":")" + good + R"("},"event-data":{}})";
    CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).ok);
  }
}

TEST_CASE("mailgun: the recorded inbound route payload parses into one e-mail") {
  const mailgun_provider mailgun;
  request_of r;
  r.headers.emplace("Content-Type", std::string(kForm));
  r.body = test::inbound::mailgun_signed(sample("mailgun_inbound.form"), kMailgunToken, kMailgunKey,
                                         1795857243);
  CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857300)).ok);
  const auto parsed = mailgun.parse(r.get());
  REQUIRE(parsed.messages.size() == 1);
  const auto& m = parsed.messages[0];
  CHECK(m.kind == inbound_kind::email);
  CHECK_FALSE(m.outbound);
  CHECK(m.message_id == "CAJ7q+Lx3Rz9o5Q2pWkTq1bYc8vE4sN6dF0gH@mail.example.com");
  CHECK(m.addresses == std::vector<std::string>{"Ana.Lopez@Example.com", "sam@acme-sales.example",
                                                "crm@inbound.acme-sales.example"});
  CHECK(m.summary == "Re: Proposal for the Q1 rollout");
  // The reply without the quoted thread, CRLF as LF.
  CHECK(m.body.starts_with("Hi Sam,\n\nThanks for the proposal."));
  CHECK(m.body.find("wrote:") == std::string::npos);
  CHECK(m.occurred_at == at("2026-11-28T08:14:03Z"));

  SUBCASE("the same as multipart/form-data") {
    const auto fields = parse_urlencoded(r.body);
    REQUIRE(fields);
    std::string multipart = "preamble\r\n";
    for (const auto& [n, v] : fields->all()) {
      multipart +=
          "--b0undary\r\nContent-Disposition: form-data; name=\"" + n + "\"\r\n\r\n" + v + "\r\n";
    }
    multipart +=
        "--b0undary\r\nContent-Disposition: form-data; name=\"attachment-1\"; "
        "filename=\"quote.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 ...\r\n";
    multipart += "--b0undary--\r\n";
    request_of mp;
    mp.headers.emplace("Content-Type", "multipart/form-data; boundary=\"b0undary\"");
    mp.body = multipart;
    CHECK(mailgun.verify(mp.get(), kMailgunKey, at_unix(1795857300)).ok);
    const auto again = mailgun.parse(mp.get());
    REQUIRE(again.messages.size() == 1);
    CHECK(again.messages[0].message_id == m.message_id);
    CHECK(again.messages[0].body == m.body);
  }
  SUBCASE("without a Message-Id: 422 naming it") {
    r.body = form_body({{"from", "a%40example.com"}, {"subject", "Hi"}});
    try {
      (void)mailgun.parse(r.get());
      FAIL("parsed");
    } catch (const api::problem_error& e) {
      CHECK(e.get().status == 422);
      CHECK(e.get().field == "Message-Id");
    }
  }
}

TEST_CASE("mailgun: a delivered event records the e-mail sent to a contact; others are ignored") {
  const mailgun_provider mailgun;
  request_of r;
  r.headers.emplace("Content-Type", "application/json");
  r.body = test::inbound::mailgun_signed(sample("mailgun_delivered.json"),
                                         "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
                                         kMailgunKey, 1795857243);
  CHECK(mailgun.verify(r.get(), kMailgunKey, at_unix(1795857243)).ok);
  const auto parsed = mailgun.parse(r.get());
  REQUIRE(parsed.messages.size() == 1);
  const auto& m = parsed.messages[0];
  CHECK(m.outbound);
  CHECK(m.message_id == "20261128091500.1.5A7E3C2B1D0F9E8A@acme-sales.example");
  CHECK(m.addresses == std::vector<std::string>{"ana.lopez@example.com"});
  CHECK(m.summary == "Updated quote: Hamburg and Bremen");

  r.body = test::inbound::replaced(r.body, "\"event\": \"delivered\"", "\"event\": \"opened\"");
  const auto opened = mailgun.parse(r.get());
  CHECK(opened.messages.empty());
  CHECK(opened.ignored == "the event opened is not recorded");
}

TEST_CASE("calendly: t=<time>,v1=<hex HMAC-SHA-256 of \"t.body\">") {
  const calendly_provider calendly;
  request_of r;
  r.body = R"({"event":"invitee.created"})";
  const std::string good = "3d00cacaadd0ee6f8de338b0451a9f7b883326da0f7ae1afe7e26d2a0369cdea";
  r.headers = {{"Calendly-Webhook-Signature", "t=1795857611,v1=" + good}};
  CHECK(calendly.verify(r.get(), "cal-signing-key-9d8c7b6a", at_unix(1795857611)).ok);
  CHECK(calendly.verify(r.get(), "another", at_unix(1795857611)).reason == "mismatch");
  CHECK(calendly.verify(r.get(), "cal-signing-key-9d8c7b6a", at_unix(1795857611 + 301)).reason ==
        "stale");
  r.body += " ";  // a byte more than was signed
  CHECK(calendly.verify(r.get(), "cal-signing-key-9d8c7b6a", at_unix(1795857611)).reason ==
        "mismatch");
  r.headers = {{"Calendly-Webhook-Signature", "v1=" + good}};
  CHECK(calendly.verify(r.get(), "cal-signing-key-9d8c7b6a", at_unix(1795857611)).reason ==
        "malformed");
  r.headers.clear();
  CHECK(calendly.verify(r.get(), "cal-signing-key-9d8c7b6a", at_unix(1795857611)).reason ==
        "missing");
}

TEST_CASE("calendly: the recorded invitee.created and invitee.canceled payloads") {
  const calendly_provider calendly;
  request_of r;
  r.body = sample("calendly_invitee_created.json");
  const auto created = calendly.parse(r.get());
  REQUIRE(created.messages.size() == 1);
  const auto& m = created.messages[0];
  CHECK(m.kind == inbound_kind::meeting);
  CHECK(m.message_id ==
        "https://api.calendly.com/scheduled_events/GHQ2X4KDL3MRYT5P/invitees/AB3KQ7XW2M9PLR4T");
  CHECK(m.addresses == std::vector<std::string>{"ANA.LOPEZ@example.com"});
  CHECK(m.phones == std::vector<std::string>{"+1 415-555-0132"});
  CHECK(m.summary == "30 Minute Discovery Call");
  CHECK(m.occurred_at == at("2026-12-02T15:00:00Z"));
  CHECK(m.duration_minutes == 30);
  CHECK(m.body.find("https://us02web.zoom.us/j/81234567890") != std::string::npos);
  CHECK(m.body.find("What would you like to discuss?: Rollout plan") != std::string::npos);
  CHECK_FALSE(m.canceled);

  r.body = sample("calendly_invitee_canceled.json");
  const auto canceled = calendly.parse(r.get());
  REQUIRE(canceled.messages.size() == 1);
  CHECK(canceled.messages[0].canceled);
  CHECK(canceled.messages[0].message_id == m.message_id);  // the same booking
  CHECK(canceled.messages[0].summary == "Canceled: 30 Minute Discovery Call");
  CHECK(canceled.messages[0].body.find("move this to next week") != std::string::npos);

  r.body = R"({"event":"routing_form_submission.created","payload":{}})";
  CHECK(calendly.parse(r.get()).messages.empty());
  r.body = R"({"event":"invitee.created","payload":{"uri":"u","email":"a@example.com"}})";
  try {
    (void)calendly.parse(r.get());
    FAIL("parsed");
  } catch (const api::problem_error& e) {
    CHECK(e.get().status == 422);
    CHECK(e.get().field == "payload.scheduled_event");
  }
}

TEST_CASE("twilio: base64 HMAC-SHA-1 of the URL and the sorted parameters, Twilio's own example") {
  // https://www.twilio.com/docs/usage/security: this URL, token and form give this signature.
  const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"Digits", "1234"},
      {"To", "+18005551212"},
      {"From", "+12349013030"},
      {"Caller", "+12349013030"},
      {"CallSid", "CA1234567890ABCDE"}};
  CHECK(twilio_signature("12345", url, fields) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");

  const twilio_provider twilio;
  request_of r;
  r.url = url;
  r.headers = {{"Content-Type", std::string(kForm)},
               {"X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}};
  r.body =
      "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B"
      "18005551212";
  CHECK(twilio.verify(r.get(), "12345", {}).ok);
  CHECK(twilio.verify(r.get(), "54321", {}).reason == "mismatch");
  r.url = "https://mycompany.com/myapp.php?foo=1&bar=3";  // signed for another URL
  CHECK(twilio.verify(r.get(), "12345", {}).reason == "mismatch");
  r.url = url;
  r.body += "&Extra=1";
  CHECK(twilio.verify(r.get(), "12345", {}).reason == "mismatch");
  r.headers.erase("X-Twilio-Signature");
  CHECK(twilio.verify(r.get(), "12345", {}).reason == "missing");
}

TEST_CASE("twilio: the recorded inbound SMS and call status callback") {
  const twilio_provider twilio;
  request_of r;
  r.headers = {{"Content-Type", std::string(kForm)}};
  r.body = sample("twilio_sms_inbound.form");
  const auto sms = twilio.parse(r.get());
  REQUIRE(sms.messages.size() == 1);
  CHECK(sms.messages[0].kind == inbound_kind::sms);
  CHECK(sms.messages[0].message_id == "SM5c1f0e2a9b7d4e3f8a6b2c1d0e9f8a7b");
  CHECK(sms.messages[0].phones == std::vector<std::string>{"+14155550132"});
  CHECK(sms.messages[0].summary == "SMS from +14155550132");
  CHECK(sms.messages[0].body == "Running 10 min late for our call, sorry! \xE2\x80\x93 Ana");
  CHECK_FALSE(sms.messages[0].occurred_at);

  r.body = sample("twilio_call_completed.form");
  const auto call = twilio.parse(r.get());
  REQUIRE(call.messages.size() == 1);
  const auto& c = call.messages[0];
  CHECK(c.kind == inbound_kind::call);
  CHECK(c.message_id == "CA8d2e4f6a1b3c5d7e9f0a2b4c6d8e0f1a");
  CHECK(c.phones == std::vector<std::string>{"+14155550132"});
  CHECK(c.summary == "Call from +14155550132");
  CHECK(c.duration_minutes == 5);                      // 263 s, rounded up
  CHECK(c.occurred_at == at("2026-11-28T10:22:18Z"));  // ended 10:26:41, began 263 s earlier

  r.body = test::inbound::replaced(r.body, "CallStatus=completed", "CallStatus=ringing");
  CHECK(twilio.parse(r.get()).messages.empty());
  r.body = test::inbound::replaced(r.body, "CallStatus=ringing", "CallStatus=no-answer");
  CHECK(twilio.parse(r.get()).messages[0].summary == "Call from +14155550132 (no answer)");
  r.body = "MessageSid=SM1&MessageStatus=delivered&To=%2B14155550132&From=%2B14155550100";
  const auto delivered = twilio.parse(r.get());
  REQUIRE(delivered.messages.size() == 1);
  CHECK(delivered.messages[0].outbound);
  CHECK(delivered.messages[0].summary == "SMS to +14155550132");
}

TEST_CASE("shared helpers: bounded text, RFC 5322 dates, address lists, activity ids") {
  CHECK(bounded_text("a\r\nb\x01\tc", 100) == "a\nb\tc");
  CHECK(bounded_text("ab\xFF", 100) == "ab?");
  // Cut at a character boundary, with an ellipsis, never over the bound.
  const auto cut = bounded_text("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 6);
  CHECK(cut == "\xC3\xA9\xE2\x80\xA6");
  CHECK(one_line("  Re:\r\n  the   plan \n", 100) == "Re: the plan");

  CHECK(parse_rfc5322_date("Tue, 1 Dec 2026 10:00:00 -0500") == at("2026-12-01T15:00:00Z"));
  CHECK(parse_rfc5322_date("1 Dec 2026 10:00 GMT") == at("2026-12-01T10:00:00Z"));
  CHECK_FALSE(parse_rfc5322_date("31 Feb 2026 10:00:00 +0000"));
  CHECK_FALSE(parse_rfc5322_date("yesterday"));

  CHECK(addresses_in(R"("López, Ana" <ana@example.com>, bob@example.com, Team: ;)") ==
        std::vector<std::string>{"ana@example.com", "bob@example.com"});

  const auto id = activity_id_for("mailgun", "abc@example.com");
  CHECK(id.size() == 43);
  CHECK(id.starts_with("in-"));
  CHECK(id == activity_id_for("mailgun", "abc@example.com"));
  CHECK(id != activity_id_for("twilio", "abc@example.com"));
  CHECK(id != activity_id_for("mailgun", "abd@example.com"));
}

TEST_CASE("forms: url-encoded and multipart, malformed ones refused") {
  const auto f = parse_urlencoded("a=1&b=x+y%21&a=2&c");
  REQUIRE(f);
  CHECK(f->get("a") == "1");
  CHECK(f->get("b") == "x y!");
  CHECK(f->get("c") == "");
  CHECK_FALSE(parse_urlencoded("a=%ZZ"));
  CHECK_FALSE(parse_multipart("--x\r\nno headers end", "x"));
  CHECK_FALSE(parse_multipart("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1", "x"));
  try {
    (void)parse_form("application/json", "{}");
    FAIL("parsed");
  } catch (const api::problem_error& e) {
    CHECK(e.get().status == 415);
  }
}

TEST_CASE("providers push by webhook: authenticate and sync say so, pulling nothing") {
  for (const auto& p : known_providers()) {
    CHECK_FALSE(p->pulls());
    CHECK_FALSE(p->authenticate("anything").supported);
    const auto synced = p->sync("anything", "");
    CHECK_FALSE(synced.supported);
    CHECK(synced.messages.empty());
  }
}

#include "api/integrations/twilio_provider.hpp"

#include <algorithm>
#include <charconv>

#include "api/integrations/form_fields.hpp"
#include "api/problem.hpp"
#include "infra/crypto/encoding.hpp"
#include "infra/crypto/mac.hpp"

namespace realmkit::api::integrations {
namespace {

form_fields form_of(const webhook_request& request) {
  const auto* type = request.header("Content-Type");
  return parse_form(type ? *type : std::string(), request.body);
}

// A call's final states: anything else (queued, initiated, ringing, in-progress) is progress of
// a call that is not over.
std::optional<std::string_view> call_outcome(std::string_view status) {
  if (status == "completed") return "";
  if (status == "busy") return " (busy)";
  if (status == "no-answer") return " (no answer)";
  if (status == "canceled") return " (canceled)";
  if (status == "failed") return " (failed)";
  return std::nullopt;
}

int seconds_of(const form_fields& form, std::string_view name) {
  const auto text = form.get(name);
  if (!text || text->empty()) return 0;
  int seconds = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
  if (ec != std::errc() || end != text->data() + text->size() || seconds < 0) {
    malformed(std::string(name), "must be a whole number of seconds");
  }
  return seconds;
}

parsed_payload parse_call(const form_fields& form) {
  const auto status = form.require("CallStatus");
  const auto outcome = call_outcome(status);
  if (!outcome) return {{}, "a call in progress (" + one_line(status, 32) + ") is not recorded"};
  inbound_message m;
  m.kind = inbound_kind::call;
  m.message_id = form.require("CallSid");
  const auto direction = form.get("Direction").value_or("inbound");
  m.outbound = direction.starts_with("outbound");
  const auto other = m.outbound ? form.require("To") : form.require("From");
  m.phones = {other};
  m.summary = one_line((m.outbound ? "Call to " : "Call from ") + other + std::string(*outcome),
                       kMaxSummaryLength);
  const int seconds = seconds_of(form, "CallDuration");
  m.duration_minutes = std::min((seconds + 59) / 60, 24 * 60);
  // The callback's Timestamp is when the call ended: it began CallDuration earlier.
  if (const auto ts = form.get("Timestamp")) {
    if (const auto ended = parse_rfc5322_date(*ts)) {
      m.occurred_at = *ended - std::chrono::seconds{seconds};
    }
  }
  return {{std::move(m)}, {}};
}

parsed_payload parse_message(const form_fields& form) {
  auto status = form.get("MessageStatus");
  if (!status) status = form.get("SmsStatus");
  const auto state = status.value_or("received");
  inbound_message m;
  m.kind = inbound_kind::sms;
  auto sid = form.get("MessageSid");
  if (!sid) sid = form.get("SmsSid");
  if (!sid || sid->empty()) malformed("MessageSid", "is required");
  m.message_id = *sid;
  if (state == "received") {
    const auto from = form.require("From");
    m.phones = {from};
    m.summary = one_line("SMS from " + from, kMaxSummaryLength);
    m.body = bounded_text(form.get("Body").value_or(""), kMaxBodyLength);
    if (const auto media = form.get("NumMedia"); media && *media != "0") {
      m.body += "\n(" + one_line(*media, 8) + " media attachment(s) not kept)";
    }
  } else if (state == "sent" || state == "delivered") {
    // A status callback of a message of ours: the contact is the recipient. Both states may be
    // reported; the MessageSid makes them one activity.
    const auto to = form.require("To");
    m.outbound = true;
    m.phones = {to};
    m.summary = one_line("SMS to " + to, kMaxSummaryLength);
    m.body = bounded_text(form.get("Body").value_or(""), kMaxBodyLength);
  } else {
    return {{}, "a message in state " + one_line(state, 32) + " is not recorded"};
  }
  return {{std::move(m)}, {}};
}

}  // namespace

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::vector<std::pair<std::string, std::string>> fields) {
  std::sort(fields.begin(), fields.end());
  std::string data(url);
  for (const auto& [name, value] : fields) {
    data += name;
    data += value;
  }
  const auto mac = infra::crypto::hmac_sha1(auth_token, data);
  return infra::crypto::base64_encode(infra::crypto::as_bytes(mac));
}

verification twilio_provider::verify(const webhook_request& request, std::string_view secret,
                                     domain::timestamp /*now: the scheme has no timestamp*/) const {
  const auto* header = request.header("X-Twilio-Signature");
  if (!header || header->empty()) return verification::failed("missing");
  form_fields form;
  try {
    form = form_of(request);
  } catch (const problem_error&) {
    return verification::failed("malformed");
  }
  const auto expected = twilio_signature(secret, request.url, form.all());
  if (!infra::crypto::constant_time_equal(expected, *header)) {
    return verification::failed("mismatch");
  }
  return verification::passed();
}

parsed_payload twilio_provider::parse(const webhook_request& request) const {
  const auto form = form_of(request);
  if (form.get("CallSid")) return parse_call(form);
  return parse_message(form);
}

std::optional<std::pair<std::string, std::string>> twilio_provider::success_body() const {
  return std::make_pair(
      std::string("text/xml; charset=utf-8"),
      std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"));
}

}  // namespace realmkit::api::integrations

#include "api/integrations/calendly_provider.hpp"

#include <charconv>

#include "api/json_body.hpp"
#include "infra/crypto/encoding.hpp"
#include "infra/crypto/mac.hpp"
#include "infra/json/json_time.hpp"

namespace realmkit::api::integrations {
namespace {

// "t=1492774577,v1=5257a8…": the time and the v1 signature; nullopt when either is missing.
std::optional<std::pair<std::string, std::string>> split_header(std::string_view header) {
  std::optional<std::string> t;
  std::optional<std::string> v1;
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.starts_with("t=")) t = std::string(item.substr(2));
    if (item.starts_with("v1=")) v1 = std::string(item.substr(3));
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (!t || !v1) return std::nullopt;
  return std::make_pair(std::move(*t), std::move(*v1));
}

domain::timestamp read_time(const json_object& o, std::string_view name) {
  const auto at = infra::parse_timestamp(o.string(name));
  if (!at) malformed(o.field(name), "must be an RFC 3339 time");
  return *at;
}

std::string describe(const json_object& payload, const json_object& event) {
  std::string text = "Booked through Calendly";
  if (const auto name = payload.optional_string("name")) text += " by " + *name;
  if (const auto email = payload.optional_string("email")) text += " <" + *email + ">";
  text += ".";
  if (const auto location = event.optional_object("location")) {
    auto where = location->optional_string("join_url");
    if (!where) where = location->optional_string("location");
    if (where) text += "\nWhere: " + *where;
  }
  if (const auto answers = payload.optional_array("questions_and_answers", 100)) {
    for (std::size_t i = 0; i < answers->size(); ++i) {
      const auto qa = answers->object(i);
      text += "\n" + qa.optional_string("question").value_or("") + ": " +
              qa.optional_string("answer").value_or("");
    }
  }
  if (const auto cancellation = payload.optional_object("cancellation")) {
    text += "\nCanceled";
    if (const auto by = cancellation->optional_string("canceled_by")) text += " by " + *by;
    if (const auto reason = cancellation->optional_string("reason"); reason && !reason->empty()) {
      text += ": " + *reason;
    }
  }
  return text;
}

}  // namespace

verification calendly_provider::verify(const webhook_request& request, std::string_view secret,
                                       domain::timestamp now) const {
  const auto* header = request.header("Calendly-Webhook-Signature");
  if (!header) return verification::failed("missing");
  const auto parts = split_header(*header);
  if (!parts) return verification::failed("malformed");
  std::int64_t seconds = 0;
  const auto& t = parts->first;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
  if (ec != std::errc() || end != t.data() + t.size()) return verification::failed("malformed");
  std::string signed_text = t;
  signed_text += '.';
  signed_text.append(request.body);
  const auto mac = infra::crypto::hmac_sha256(secret, signed_text);
  const auto expected = infra::crypto::hex_encode(infra::crypto::as_bytes(mac));
  if (!infra::crypto::constant_time_equal(expected, parts->second)) {
    return verification::failed("mismatch");
  }
  const auto age = now - std::chrono::sys_seconds{std::chrono::seconds{seconds}};
  if (age > kMaxSignatureAge || age < -kMaxSignatureAge) return verification::failed("stale");
  return verification::passed();
}

parsed_payload calendly_provider::parse(const webhook_request& request) const {
  const auto body = json_body::parse(request.body);
  const auto root = body.root();
  const auto event_name = root.string("event");
  const bool canceled = event_name == "invitee.canceled";
  if (event_name != "invitee.created" && !canceled) {
    return {{}, "the event " + one_line(event_name, 64) + " is not recorded"};
  }
  const auto payload = root.object("payload");
  const auto event = payload.object("scheduled_event");
  inbound_message m;
  m.kind = inbound_kind::meeting;
  // The invitee's URI names one booking; its cancellation carries the same URI, so it updates
  // the meeting logged for the booking instead of logging another.
  m.message_id = payload.string("uri");
  if (m.message_id.empty()) malformed(payload.field("uri"), "must not be empty");
  m.canceled = canceled;
  m.addresses = addresses_in(payload.string("email"));
  if (m.addresses.empty()) malformed(payload.field("email"), "must be an e-mail address");
  if (const auto phone = payload.optional_string("text_reminder_number")) {
    m.phones.push_back(*phone);
  }
  auto title = event.optional_string("name").value_or("Meeting");
  m.summary = one_line((canceled ? "Canceled: " : "") + title, kMaxSummaryLength);
  const auto start = read_time(event, "start_time");
  const auto end = read_time(event, "end_time");
  if (end < start) malformed(event.field("end_time"), "must not be before start_time");
  m.occurred_at = start;
  m.duration_minutes = static_cast<int>(std::min<std::int64_t>(
      std::chrono::duration_cast<std::chrono::minutes>(end - start).count(), 24 * 60));
  m.body = bounded_text(describe(payload, event), kMaxBodyLength);
  return {{std::move(m)}, {}};
}

}  // namespace realmkit::api::integrations

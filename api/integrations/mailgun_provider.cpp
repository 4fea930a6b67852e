#include "api/integrations/mailgun_provider.hpp"

#include <charconv>

#include "api/integrations/form_fields.hpp"
#include "api/json_body.hpp"
#include "api/problem.hpp"
#include "infra/crypto/encoding.hpp"
#include "infra/crypto/mac.hpp"

namespace realmkit::api::integrations {
namespace {

struct signature_parts {
  std::string timestamp;
  std::string token;
  std::string signature;
};

bool is_json(const webhook_request& request) {
  const auto* type = request.header("Content-Type");
  return type && is_json_content_type(*type);
}

std::string content_type(const webhook_request& request) {
  const auto* type = request.header("Content-Type");
  return type ? *type : std::string();
}

// Where the signature travels: form fields, or the JSON body's "signature" object. nullopt when
// it is absent or not of the expected shape.
std::optional<signature_parts> signature_of(const webhook_request& request) {
  try {
    if (is_json(request)) {
      const auto body = json_body::parse(request.body);
      const auto s = body.root().optional_object("signature");
      if (!s) return std::nullopt;
      return signature_parts{s->string("timestamp"), s->string("token"), s->string("signature")};
    }
    const auto form = parse_form(content_type(request), request.body);
    auto timestamp = form.get("timestamp");
    auto token = form.get("token");
    auto signature = form.get("signature");
    if (!timestamp || !token || !signature) return std::nullopt;
    return signature_parts{std::move(*timestamp), std::move(*token), std::move(*signature)};
  } catch (const problem_error&) {
    return std::nullopt;
  }
}

// "<20261128.1@mail.example.com>" → "20261128.1@mail.example.com".
std::string message_id_of(std::string_view raw) {
  auto id = one_line(raw, 998);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return id;
}

// A header's value from the form's message-headers ([["Name", "value"], …]), when the form does
// not carry it as a field of its own.
std::optional<std::string> from_message_headers(const form_fields& form, std::string_view name) {
  const auto raw = form.get("message-headers");
  if (!raw) return std::nullopt;
  try {
    const auto headers = json_body::parse("{\"h\":" + *raw + "}");
    const auto& list = headers.root().value()["h"];
    if (!list.IsArray()) return std::nullopt;
    for (const auto& pair : list.GetArray()) {
      if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString()) {
        continue;
      }
      if (iequals(pair[0].GetString(), name)) return std::string(pair[1].GetString());
    }
  } catch (const problem_error&) {
    malformed("message-headers", "must be a JSON array of [name, value] pairs");
  }
  return std::nullopt;
}

std::optional<std::string> header_field(const form_fields& form, std::string_view name) {
  if (auto v = form.get(name)) return v;
  return from_message_headers(form, name);
}

parsed_payload parse_inbound_form(const form_fields& form) {
  inbound_message m;
  m.kind = inbound_kind::email;
  const auto id = header_field(form, "Message-Id");
  if (!id || message_id_of(*id).empty()) malformed("Message-Id", "is required");
  m.message_id = message_id_of(*id);
  // The sender first (a contact writing in), then the other recipients (a message of ours sent
  // to a contact with the route's address in Bcc).
  const auto from = form.get("from").value_or(form.get("sender").value_or(""));
  m.addresses = addresses_in(from);
  if (m.addresses.empty()) malformed("from", "must name an e-mail address");
  for (const char* list : {"To", "Cc"}) {
    if (const auto v = header_field(form, list)) {
      for (auto& a : addresses_in(*v)) m.addresses.push_back(std::move(a));
    }
  }
  m.summary = one_line(form.get("subject").value_or(""), kMaxSummaryLength);
  if (m.summary.empty()) m.summary = "(no subject)";
  // The reply without the quoted thread and signature when Mailgun found them.
  auto text = form.get("stripped-text");
  if (!text || text->empty()) text = form.get("body-plain");
  m.body = bounded_text(text.value_or(""), kMaxBodyLength);
  if (const auto date = header_field(form, "Date")) m.occurred_at = parse_rfc5322_date(*date);
  return {{std::move(m)}, {}};
}

parsed_payload parse_event(const json_body& body) {
  const auto root = body.root();
  const auto data = root.object("event-data");
  const auto event = data.string("event");
  if (event != "delivered") return {{}, "the event " + one_line(event, 64) + " is not recorded"};
  inbound_message m;
  m.kind = inbound_kind::email;
  m.outbound = true;
  const auto message = data.object("message");
  const auto headers = message.object("headers");
  m.message_id = message_id_of(headers.string("message-id"));
  if (m.message_id.empty()) malformed(headers.field("message-id"), "must not be empty");
  m.addresses = addresses_in(data.string("recipient"));
  if (m.addresses.empty()) malformed(data.field("recipient"), "must be an e-mail address");
  m.summary = one_line(headers.optional_string("subject").value_or(""), kMaxSummaryLength);
  if (m.summary.empty()) m.summary = "(no subject)";
  // Delivery time: seconds since the epoch with a fraction.
  if (const auto& ts = data.value(); ts.HasMember("timestamp") && ts["timestamp"].IsNumber()) {
    const auto seconds = ts["timestamp"].GetDouble();
    if (seconds > 0 && seconds < 253402300800.0) {
      m.occurred_at = domain::timestamp{
          std::chrono::microseconds{static_cast<std::int64_t>(seconds * 1'000'000)}};
    }
  }
  return {{std::move(m)}, {}};
}

}  // namespace

verification mailgun_provider::verify(const webhook_request& request, std::string_view secret,
                                      domain::timestamp now) const {
  const auto parts = signature_of(request);
  if (!parts) return verification::failed("missing");
  std::int64_t seconds = 0;
  const auto& ts = parts->timestamp;
  const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), seconds);
  if (ec != std::errc() || end != ts.data() + ts.size()) return verification::failed("malformed");
  const auto mac = infra::crypto::hmac_sha256(secret, parts->timestamp + parts->token);
  const auto expected = infra::crypto::hex_encode(infra::crypto::as_bytes(mac));
  if (!infra::crypto::constant_time_equal(expected, parts->signature)) {
    return verification::failed("mismatch");
  }
  // Checked after the MAC, so an unsigned request learns nothing about the clock.
  const auto signed_at = std::chrono::sys_seconds{std::chrono::seconds{seconds}};
  const auto age = now - signed_at;
  if (age > kMaxSignatureAge || age < -kMaxSignatureAge) return verification::failed("stale");
  return verification::passed();
}

parsed_payload mailgun_provider::parse(const webhook_request& request) const {
  if (is_json(request)) return parse_event(json_body::parse(request.body));
  return parse_inbound_form(parse_form(content_type(request), request.body));
}

}  // namespace realmkit::api::integrations

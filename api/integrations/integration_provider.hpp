// The integration layer's provider interface (the seed's IntegrationProvider: authenticate, sync,
// webhook) and the normalized message every provider's payload becomes. A provider is pure: it
// verifies a signature and parses a payload from the request alone, with the secret and the time
// passed in, so each one is a unit test with recorded payloads and no network.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http_types.hpp"
#include "domain/common/types.hpp"

namespace realmkit::api::integrations {

enum class inbound_kind { email, meeting, sms, call };

std::string_view to_string(inbound_kind kind);

// An e-mail, a booked meeting, an SMS or a call as the provider reported it, in one shape.
struct inbound_message {
  inbound_kind kind = inbound_kind::email;
  // The provider's own id of the message (Message-Id, CallSid, the invitee's URI): the same
  // message delivered twice carries the same id, which makes logging it idempotent.
  std::string message_id;
  bool outbound = false;  // sent by someone of ours (a BCC'd e-mail, an outgoing call or SMS)
  // The other party's addresses and numbers, in the order they are tried against contacts.
  std::vector<std::string> addresses;
  std::vector<std::string> phones;
  std::string summary;  // one line: the subject, the event's name, "SMS from +1 415 …"
  std::string body;     // plain text, bounded (kMaxBodyLength)
  // When it happened; absent: when it was received.
  std::optional<domain::timestamp> occurred_at;
  std::optional<int> duration_minutes;  // calls and meetings
  bool canceled = false;                // a meeting the invitee canceled
};

// Longest body kept from a payload, in bytes (cut at a character boundary, marked "…").
inline constexpr std::size_t kMaxBodyLength = 8'000;
// Longest summary, in bytes; the activity's summary allows 200 characters.
inline constexpr std::size_t kMaxSummaryLength = 190;

// What a webhook call carries, as a provider's checks need it.
struct webhook_request {
  const header_map& headers;
  std::string_view body;
  // The full URL the provider called ("https://crm.example.com/api/integrations/twilio/webhook"),
  // for schemes that sign it.
  std::string_view url;

  const std::string* header(std::string_view name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct verification {
  bool ok = false;
  // Why it failed, for the log and the metrics (never sent to the caller): "missing",
  // "malformed", "mismatch", "stale".
  std::string reason;

  static verification passed() { return {true, {}}; }
  static verification failed(std::string why) { return {false, std::move(why)}; }
};

// A parsed payload: the messages to record (none for an event RealmKit does not record, with the
// reason). A malformed payload throws problem_error naming the field.
struct parsed_payload {
  std::vector<inbound_message> messages;
  std::string ignored;  // why nothing is recorded, when messages is empty
};

// What a pull-based provider answers to authenticate and sync; webhook-only providers say so.
struct pull_result {
  bool supported = false;
  std::string detail;
  std::vector<inbound_message> messages;
  std::string next_cursor;
};

class integration_provider {
 public:
  virtual ~integration_provider() = default;

  // "mailgun", "calendly", "twilio": the {provider} of the webhook's path.
  virtual std::string_view name() const = 0;

  // Pull-based providers (a mailbox or calendar API) exchange credentials and fetch what changed
  // since a cursor. The providers here push by webhook and answer "not supported": there is
  // nothing to pull and no credentials to hold beyond the signing secret.
  virtual bool pulls() const { return false; }
  virtual pull_result authenticate(std::string_view /*credentials*/) const {
    return {false, std::string(name()) + " pushes by webhook: nothing to authenticate", {}, {}};
  }
  virtual pull_result sync(std::string_view /*credentials*/, std::string_view /*cursor*/) const {
    return {false, std::string(name()) + " pushes by webhook: nothing to sync", {}, {}};
  }

  // The webhook: whether `request` was signed with `secret` (and, where the scheme dates its
  // signature, signed within max_age of `now`), then what it says.
  virtual verification verify(const webhook_request& request, std::string_view secret,
                              domain::timestamp now) const = 0;
  virtual parsed_payload parse(const webhook_request& request) const = 0;

  // The body of a success answer, when the provider expects one of its own (Twilio reads TwiML
  // from a messaging webhook's answer): its content type and text. nullopt: JSON.
  virtual std::optional<std::pair<std::string, std::string>> success_body() const {
    return std::nullopt;
  }
};

// How far a signature's timestamp may lie from now before the request counts as a replay.
inline constexpr std::chrono::seconds kMaxSignatureAge{300};

// ---- helpers the providers share ----

// `text` without control characters other than newlines and tabs, CRLF as LF, cut to at most
// `max_bytes` at a UTF-8 character boundary (with "…" when cut). Invalid UTF-8 bytes become "?".
std::string bounded_text(std::string_view text, std::size_t max_bytes);

// One line: whitespace runs (newlines included) as one space, trimmed, bounded like above.
std::string one_line(std::string_view text, std::size_t max_bytes);

// An RFC 5322 date ("Tue, 28 Nov 2026 10:00:00 +0000", day name and seconds optional, obsolete
// zone names GMT/UT/UTC/Z accepted); nullopt otherwise.
std::optional<domain::timestamp> parse_rfc5322_date(std::string_view text);

// The addresses of an address list header ("Ana <ana@example.com>, bob@example.com"): the part
// in angle brackets, or the bare address; groups and comments are not supported.
std::vector<std::string> addresses_in(std::string_view header);

// Throws a 422 problem naming `field` of the payload.
[[noreturn]] void malformed(std::string field, std::string reason);

}  // namespace realmkit::api::integrations

// Twilio (SMS and calls): the messaging webhook of an incoming SMS, the status callbacks of
// outgoing messages (sent, delivered) and of calls (a final CallStatus), all form-encoded.
// Signed in X-Twilio-Signature: base64 of the HMAC-SHA-1, under the account's auth token, of the
// full URL Twilio called followed by every POST parameter's name and value, sorted by name. The
// scheme has no timestamp: a replayed request is harmless because logging is idempotent by the
// MessageSid / CallSid.
#pragma once

#include "api/integrations/integration_provider.hpp"

namespace realmkit::api::integrations {

class twilio_provider final : public integration_provider {
 public:
  std::string_view name() const override { return "twilio"; }
  verification verify(const webhook_request& request, std::string_view secret,
                      domain::timestamp now) const override;
  parsed_payload parse(const webhook_request& request) const override;
  // An empty TwiML answer: Twilio reads a messaging webhook's answer as instructions.
  std::optional<std::pair<std::string, std::string>> success_body() const override;
};

// The signature Twilio sends for `url` and these form fields under `auth_token` (for tests and
// for operators checking a configuration).
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::vector<std::pair<std::string, std::string>> fields);

}  // namespace realmkit::api::integrations

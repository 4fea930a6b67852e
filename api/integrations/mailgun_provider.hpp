// Mailgun (e-mail): inbound routes that forward() a received message as a form
// (x-www-form-urlencoded or multipart/form-data: recipient, sender, from, subject, body-plain,
// stripped-text, Message-Id, message-headers, timestamp, token, signature), and JSON event
// webhooks ({"signature": {…}, "event-data": {…}}) whose "delivered" event records an e-mail
// sent to a contact. Both are signed alike: hex HMAC-SHA-256 of timestamp + token under the
// webhook signing key.
#pragma once

#include "api/integrations/integration_provider.hpp"

namespace realmkit::api::integrations {

class mailgun_provider final : public integration_provider {
 public:
  std::string_view name() const override { return "mailgun"; }
  verification verify(const webhook_request& request, std::string_view secret,
                      domain::timestamp now) const override;
  parsed_payload parse(const webhook_request& request) const override;
};

}  // namespace realmkit::api::integrations

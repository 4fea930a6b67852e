// Calendly (calendar): webhook subscriptions v2, events invitee.created and invitee.canceled,
// JSON. Signed in the Calendly-Webhook-Signature header "t=<unix time>,v1=<hex>", the HMAC-SHA-256
// of "<t>.<raw body>" under the subscription's signing key.
#pragma once

#include "api/integrations/integration_provider.hpp"

namespace realmkit::api::integrations {

class calendly_provider final : public integration_provider {
 public:
  std::string_view name() const override { return "calendly"; }
  verification verify(const webhook_request& request, std::string_view secret,
                      domain::timestamp now) const override;
  parsed_payload parse(const webhook_request& request) const override;
};

}  // namespace realmkit::api::integrations

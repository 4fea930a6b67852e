// POST /api/integrations/{provider}/webhook: the inbound webhooks of the integration providers.
// No bearer token: the provider's signature authenticates the request, so the route is anonymous
// (rate-limited per address like every route). A provider without a configured secret is
// disabled and answers 404 like an unknown one, so the endpoint does not tell which integrations
// a deployment uses. Order of checks: provider → signature (401, nothing recorded) → payload
// (400/415/422 naming the field) → matching and logging (docs/integrations.md).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/integrations/inbound_log.hpp"
#include "api/integrations/integration_provider.hpp"
#include "api/router.hpp"

namespace realmkit::api::integrations {

struct inbound_options {
  // Provider name ("mailgun", "calendly", "twilio") → its signing secret (Mailgun's webhook
  // signing key, the Calendly subscription's signing key, Twilio's auth token).
  std::map<std::string, std::string, std::less<>> secrets;
  // The public base URL providers call ("https://crm.example.com"), for signatures over the URL
  // (Twilio). Empty: X-Forwarded-Proto (else https) and X-Forwarded-Host (else Host).
  std::string public_url;
};

// Every provider RealmKit knows, by name.
std::vector<std::unique_ptr<integration_provider>> known_providers();

class inbound_webhooks final {
 public:
  // The handler and read-model database must outlive this; `metrics` may be null.
  inbound_webhooks(inbound_options options, commands::command_handler& handler,
                   infra::sql::database& read_db, std::function<domain::timestamp()> clock,
                   infra::metrics_registry* metrics);
  ~inbound_webhooks();
  inbound_webhooks(const inbound_webhooks&) = delete;
  inbound_webhooks& operator=(const inbound_webhooks&) = delete;

  // The names of the providers that have a secret: the enabled ones.
  std::vector<std::string> enabled() const;

  http_response handle(const http_request& request);

 private:
  void count(std::string_view provider, std::string_view stage);
  std::string url_of(const http_request& request) const;

  inbound_options options_;
  std::function<domain::timestamp()> clock_;
  infra::metrics_registry* metrics_;
  std::vector<std::unique_ptr<integration_provider>> providers_;
  inbound_log log_;
};

// Adds the webhook route, served by `webhooks` (which must outlive the router).
void add_inbound_webhook_route(router& routes, inbound_webhooks& webhooks);

}  // namespace realmkit::api::integrations

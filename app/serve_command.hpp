// `realmkit serve`: the configured roles of RealmKit (all of them by default) in this process.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "app/cluster_options.hpp"
#include "infra/store_factory.hpp"

namespace realmkit::app {

struct serve_options {
  std::string host = "0.0.0.0";
  int port = 8080;
  std::size_t io_threads = 2;
  // Each command blocks its worker thread until its append is durable, and group commit shares
  // one flush among the appends waiting together: the pool bounds how many can wait together.
  std::size_t db_threads = 64;
  std::vector<std::string> cors_origins;
  bool cors_credentials = false;  // browsers send cookies cross-origin only with this
  // "kid=<base64url secret>,..." (REALMKIT_JWT_KEYS, --jwt-keys); empty: generated and kept.
  std::string jwt_keys;
  // Token buckets as "BURST:TOKENS/PERIOD" (infra/rate_limit/rate_limit_policy.hpp); empty: the
  // defaults.
  std::string rate_per_user;
  std::string rate_per_address;
  std::string rate_login;
  bool no_rate_limits = false;
  bool insecure_cookies = false;  // cookies without Secure, for plain-HTTP development
  // Webhooks to private, loopback and link-local addresses (--webhooks-allow-private): off by
  // default, since a subscription's URL could otherwise reach into the server's own network.
  bool webhooks_allow_private = false;
  // Finished webhook deliveries are forgotten after this many days (0: kept until their
  // subscription is deleted).
  int webhook_retention_days = 30;
  // How often the analytics' materialized views are refreshed when their facts changed
  // (PostgreSQL; SQLite answers from tables the projector keeps current). 0: on demand only.
  int analytics_refresh_seconds = 30;
  // The browser UI's folder (--web-root, REALMKIT_WEB_ROOT); empty: found beside the binary or
  // in the source tree (app/web_root.hpp); "none": no UI.
  std::string web_root;
  // Inbound integrations (docs/integrations.md): each provider's signing secret; a provider
  // without one is disabled. Secrets come from the environment (REALMKIT_MAILGUN_SIGNING_KEY,
  // REALMKIT_CALENDLY_SIGNING_KEY, REALMKIT_TWILIO_AUTH_TOKEN) or flags, which show in ps.
  std::string mailgun_signing_key;
  std::string calendly_signing_key;
  std::string twilio_auth_token;
  // The public base URL providers call ("https://crm.example.com", REALMKIT_PUBLIC_URL), for
  // signatures over the URL (Twilio); empty: from the request's forwarding headers and Host.
  std::string public_url;
  // Lead scores from an external, OpenAI-compatible model (app/openai_score_provider.hpp) rather
  // than the local one: its base URL (REALMKIT_LEAD_SCORING_URL), model
  // (REALMKIT_LEAD_SCORING_MODEL) and API key (REALMKIT_LEAD_SCORING_API_KEY). No URL: local.
  std::string lead_scoring_url;
  std::string lead_scoring_model;
  std::string lead_scoring_api_key;
  // The roles this process runs and the shared services of the distributed mode.
  cluster_options cluster;
};

// Serves until SIGTERM or SIGINT, then drains and returns 0. Throws on a configuration or start
// failure (the caller prints it and exits 1).
int serve(const infra::store_config& store, const serve_options& options);

}  // namespace realmkit::app

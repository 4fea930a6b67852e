// The HTTP API as `realmkit serve` wires it: the route table (operations, sessions, every CRM
// route, OpenAPI), the queries the CRM routes and the logins make of the read models, and the
// guards in their order (address limits, authentication, user limits, permissions), over stores
// and read models the caller owns. Tests build the same thing to check the table.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/auth/jwt.hpp"
#include "api/auth/login_lockout.hpp"
#include "api/auth/login_service.hpp"
#include "api/auth/memory_revocation_list.hpp"
#include "api/auth/refresh_token_store.hpp"
#include "api/auth/revocation_list.hpp"
#include "api/auth/token_service.hpp"
#include "api/crm/crm_routes.hpp"
#include "api/crm/sql_directory.hpp"
#include "api/health_routes.hpp"
#include "api/http_pipeline.hpp"
#include "api/integrations/inbound_webhooks.hpp"
#include "api/rate_limit_guard.hpp"
#include "api/router.hpp"
#include "app/openai_score_provider.hpp"
#include "app/read_models.hpp"
#include "commands/command_handler.hpp"
#include "commands/lead_scorer.hpp"
#include "infra/crypto/password_hasher.hpp"
#include "infra/event_store.hpp"
#include "infra/metrics.hpp"
#include "infra/webhooks/webhook_store.hpp"

namespace realmkit::app {

struct http_api_options {
  api::auth::token_options tokens;
  api::auth::lockout_policy lockout;
  infra::crypto::argon2id_params argon2 = infra::crypto::kDefaultArgon2id;
  bool rate_limits = true;  // off only for benchmarks that measure the server, not the policy
  // limits.make_limiter: empty for in-process buckets; the distributed mode passes limiters kept
  // in Redis (app/redis_rate_limits.hpp) so the limits hold across API processes.
  api::rate_limit_options limits;
  // The revocation list every API process shares (app/redis_revocation_list.hpp), so a logout or
  // a user's revocation refuses access tokens everywhere before they expire; nullptr in a single
  // process, which then keeps its own list in memory. Must outlive the http_api.
  api::auth::revocation_list* revocations = nullptr;
  // Origins allowed to call from a browser (the CORS allow-list); cookie-authenticated writes
  // are trusted from them.
  std::vector<std::string> trusted_origins;
  bool cookie_secure = true;
  api::auth::clock_fn clock;  // the system clock when empty; tests inject a fake
  // False in a process without the api role (a hub, projector or relay): only the operational
  // routes (/healthz, /readyz, /metrics) are served; the token service and queries still back
  // the hub's WebSocket authentication and room access.
  bool crm_routes = true;
  // The browser UI's folder (web/), served at "/"; empty: no UI.
  std::filesystem::path web_root;
  // Webhook subscriptions may name private, loopback and link-local targets.
  bool webhooks_allow_private = false;
  // Inbound integrations: each provider's signing secret (none: that webhook answers 404) and
  // the public URL they call.
  api::integrations::inbound_options inbound;
  // Scores leads with an external model (app/openai_score_provider.hpp); none: the local model.
  std::optional<openai_score_options> external_scoring;
};

// Owns the auth services, the CRM queries and the route table; the stores, read models and
// metrics are the caller's and must outlive it. Adds its own readiness check ("projections": none
// has stopped at an event) to `ready`.
class http_api final {
 public:
  // The read models may still be catching up (started or not): reads wait for min_position,
  // logins for what is committed.
  http_api(http_api_options options, infra::event_store& store, read_models& reads,
           api::auth::refresh_token_store& refresh_tokens, api::auth::jwt_keyset keys,
           infra::metrics_registry& metrics, api::readiness& ready);
  ~http_api();
  http_api(const http_api&) = delete;
  http_api& operator=(const http_api&) = delete;

  const api::router& routes() const { return routes_; }
  // Adds the guards, in order, to a pipeline built on routes(). Throws std::invalid_argument when
  // a route names an unknown permission.
  void install_guards(api::http_pipeline& pipeline);

  api::auth::token_service& tokens() { return tokens_; }
  commands::command_handler& commands() { return commands_; }
  api::crm::crm_queries& queries() { return queries_; }
  commands::lead_scorer& scorer() { return scorer_; }

  // True when no user exists (once the read models have caught up, waiting at most a few
  // seconds); false when they have not caught up by then.
  bool has_no_users();

 private:
  http_api_options options_;
  infra::event_store& store_;
  infra::metrics_registry& metrics_;
  api::auth::clock_fn clock_;
  // Until the read models have applied what is committed: a user created a moment ago can log
  // in.
  void catch_up();
  infra::crypto::password_hasher hasher_;
  // This process's own list when options_.revocations is null (declared before tokens_, which
  // uses it).
  std::unique_ptr<api::auth::memory_revocation_list> own_revocations_;
  api::auth::token_service tokens_;
  api::auth::memory_login_lockout lockout_;
  commands::command_handler commands_;
  api::crm::sql_directory queries_;
  commands::lead_scorer scorer_;  // on demand here; serve starts its schedule with the projector
  infra::webhooks::webhook_store webhooks_;
  api::crm::crm_services crm_;
  api::auth::login_service logins_;
  std::unique_ptr<api::rate_limit_guard> limits_;
  std::unique_ptr<api::integrations::inbound_webhooks> inbound_;
  api::router routes_;
};

}  // namespace realmkit::app

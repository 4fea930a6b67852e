#include "app/http_api.hpp"

#include <spdlog/spdlog.h>

#include "api/auth_guard.hpp"
#include "api/auth_routes.hpp"
#include "api/openapi.hpp"
#include "api/projection_routes.hpp"
#include "api/static_files.hpp"
#include "commands/crm_commands.hpp"
#include "infra/ids.hpp"
#include "infra/privacy/private_event_store.hpp"

namespace realmkit::app {
namespace {

using namespace std::chrono_literals;

// How long a login or refresh waits for the read models to apply what is committed.
constexpr auto kCatchUpWait = 2s;

}  // namespace

http_api::http_api(http_api_options options, infra::event_store& store, read_models& reads,
                   api::auth::refresh_token_store& refresh_tokens, api::auth::jwt_keyset keys,
                   infra::metrics_registry& metrics, api::readiness& ready)
    : options_(std::move(options)),
      store_(store),
      metrics_(metrics),
      clock_(options_.clock ? options_.clock : api::auth::system_clock()),
      hasher_(options_.argon2),
      own_revocations_(options_.revocations
                           ? nullptr
                           : std::make_unique<api::auth::memory_revocation_list>(clock_)),
      tokens_(std::move(keys), options_.tokens, refresh_tokens, clock_,
              options_.revocations ? options_.revocations : own_revocations_.get()),
      lockout_(options_.lockout, clock_),
      commands_(store),
      queries_(reads.database(), &reads.projector()),
      scorer_(commands_, reads.database(),
              {.metrics = &metrics,
               .provider = options_.external_scoring
                               ? make_openai_score_provider(*options_.external_scoring)
                               : nullptr}),
      webhooks_(reads.database()),
      crm_{.handler = commands_,
           .queries = queries_,
           .clock = [this] { return clock_(); },
           .new_id = [] { return infra::new_uuid_v7(); },
           .hasher = &hasher_,
           .read_db = &reads.database(),
           .projector = &reads.projector(),
           .end_sessions = [this](const std::string& user_id) { tokens_.revoke_user(user_id); },
           .scorer = &scorer_,
           .webhooks = &webhooks_,
           .webhook_targets = {.allow_private = options_.webhooks_allow_private}},
      logins_(hasher_, tokens_, lockout_,
              [this](std::string_view email) -> std::optional<api::auth::login_account> {
                catch_up();
                auto account = queries_.user_by_email(email);
                if (!account) return std::nullopt;
                return api::auth::login_account{std::move(account->user_id),
                                                std::move(account->password_hash), account->role,
                                                std::move(account->team_id), account->active};
              }) {
  // Through the decorator that seals personal fields, erasures destroy keys in its key store, and
  // the hash chain is checked on the log beneath it.
  if (auto* opened = dynamic_cast<infra::privacy::private_event_store*>(&store)) {
    crm_.subjects = &opened->keys();
    crm_.stored_log = &opened->stored();
  }
  ready.add("projections", [&projector = reads.projector()]() -> std::optional<std::string> {
    std::string failed;
    for (const auto& s : projector.status()) {
      if (s.state != projections::projection_state::failed) continue;
      if (!failed.empty()) failed += "; ";
      failed += s.name + " stopped at position " + std::to_string(s.checkpoint) +
                (s.error ? ": " + *s.error : std::string());
    }
    if (failed.empty()) return std::nullopt;
    return failed;
  });
  if (options_.rate_limits) {
    auto limits = options_.limits;
    limits.metrics = &metrics_;
    limits_ = std::make_unique<api::rate_limit_guard>(std::move(limits));
  }

  api::add_health_routes(routes_, ready, metrics_);
  if (!options_.crm_routes) return;
  api::add_auth_routes(
      routes_, tokens_, logins_,
      {.profiles = [this](std::string_view user_id) -> std::optional<api::auth::user_profile> {
         catch_up();
         const auto user = queries_.find_user(user_id);
         if (!user) return std::nullopt;
         const auto& s = user->state;
         return api::auth::user_profile{
             s.id.value,
             s.email,
             s.display_name,
             s.role,
             s.team ? std::optional<std::string>(s.team->value) : std::nullopt,
             s.active};
       },
       .record_rehash =
           [this](const std::string& user_id, const std::string& hash,
                  const api::http_request& request) {
             commands::command_metadata meta;
             meta.actor = domain::user_id{user_id};
             meta.now = clock_();
             meta.correlation_id = request.request_id;
             meta.ip = request.remote_address;
             const auto done = commands::execute(
                 commands_,
                 domain::user_command{domain::change_user_password{domain::user_id{user_id}, hash}},
                 meta);
             if (!done.ok()) throw std::runtime_error(done.error().reason);
           },
       .cookie_secure = options_.cookie_secure,
       .trusted_origins = options_.trusted_origins,
       .metrics = &metrics_});
  api::crm::add_crm_routes(routes_, crm_);
  inbound_ = std::make_unique<api::integrations::inbound_webhooks>(
      options_.inbound, commands_, reads.database(), [this] { return clock_(); }, &metrics_);
  api::integrations::add_inbound_webhook_route(routes_, *inbound_);
  for (const auto& provider : inbound_->enabled()) {
    spdlog::info("inbound webhook enabled: POST /api/integrations/{}/webhook", provider);
  }
  api::add_projection_routes(routes_, reads.projector());
  api::add_openapi_route(routes_);
  if (!options_.web_root.empty()) {
    const auto files = api::add_static_routes(routes_, options_.web_root);
    spdlog::info("web UI: {} files from {}", files, options_.web_root.string());
  }
}

http_api::~http_api() = default;

void http_api::catch_up() {
  queries_.wait_for(store_.head_position(), kCatchUpWait);
}

bool http_api::has_no_users() {
  // Without a projector in this process, the read models may not exist yet: no hint then.
  if (!queries_.wait_for(store_.head_position(), 10s)) return false;
  api::crm::list_query q;
  q.include_archived = true;
  q.limit = 1;
  return queries_.list_users(q).items.empty();
}

void http_api::install_guards(api::http_pipeline& pipeline) {
  if (limits_) pipeline.add_guard(limits_->address_guard());
  pipeline.add_guard(api::make_authentication_guard(
      tokens_, {.trusted_origins = options_.trusted_origins, .metrics = &metrics_}));
  if (limits_) pipeline.add_guard(limits_->user_guard());
  pipeline.add_guard(api::make_permission_guard(routes_));
}

}  // namespace realmkit::app

// Every CRM route under /api/: create, update, archive, get and list for users, teams, companies,
// contacts, leads, pipelines, deals, activities and tasks, plus each domain command. Conventions
// (docs/crm-api.md): Idempotency-Key, If-Match or expected_version, {id, stream_id, version,
// position} answers, ETag and min_position on reads, cursor pagination, problem+json errors.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "api/crm/crm_queries.hpp"
#include "api/router.hpp"
#include "commands/command_handler.hpp"
#include "infra/webhooks/webhook_target.hpp"

namespace realmkit::infra::crypto {
class password_hasher;
}
namespace realmkit::infra::sql {
class database;
}
namespace realmkit::infra::privacy {
class subject_key_store;
}
namespace realmkit::projections {
class projector;
}
namespace realmkit::commands {
class lead_scorer;
}
namespace realmkit::infra::webhooks {
class webhook_store;
}

namespace realmkit::api::crm {

// What the CRM routes need, owned by the app and passed by reference; must outlive the router.
struct crm_services {
  commands::command_handler& handler;
  crm_queries& queries;
  std::function<domain::timestamp()> clock;  // the time commands are issued at
  std::function<std::string()> new_id;       // ids of new records (infra::new_uuid_v7)
  // Hashes passwords set through /api/users; null: such requests are refused.
  const infra::crypto::password_hasher* hasher = nullptr;
  // The longest a read waits for min_position before answering 503.
  std::chrono::milliseconds max_wait{5'000};
  // The read-model database the read models' routes query (board, search, timelines, analytics),
  // and the projector whose checkpoints min_position waits on. Null where a process serves no
  // such routes.
  infra::sql::database* read_db = nullptr;
  const projections::projector* projector = nullptr;
  // Ends every session of a user: after deactivation, a new role or team, or a password set by an
  // admin, so that the old rights do not outlive the change by an access token's lifetime. Null
  // where no sessions are issued.
  std::function<void(const std::string& user_id)> end_sessions;
  // The keys of data subjects (contacts, leads), which an erasure destroys; null where a process
  // keeps none (erasures are then refused with 503).
  infra::privacy::subject_key_store* subjects = nullptr;
  // The log as stored, for checking its hash chain, when the handler's store shows it otherwise
  // (with personal fields opened); null: the handler's store is the log as stored.
  infra::event_store* stored_log = nullptr;
  // Scores leads on demand (POST /api/leads/scoring/retrain) and describes the current model;
  // null where a process scores none (those routes then answer 503).
  commands::lead_scorer* scorer = nullptr;
  // Outgoing webhooks' subscriptions and deliveries (docs/webhooks.md); null where a process keeps
  // none (their routes then answer 503).
  infra::webhooks::webhook_store* webhooks = nullptr;
  // Which targets a subscription may name: public addresses only, unless the operator allows
  // private ones (realmkit serve --webhooks-allow-private).
  infra::webhooks::target_policy webhook_targets;
};

// Adds every CRM route. Each carries its permission ("deal:edit"), which the authentication guard
// checks; the handlers check it again, apply record-level team visibility (hidden records answer
// 404) and the ownership rules, from the api::auth::principal the guard put in
// request.principal. A request without one is answered 401.
void add_crm_routes(router& routes, crm_services& services);

}  // namespace realmkit::api::crm

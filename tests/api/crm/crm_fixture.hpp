// A real server with every CRM route on a fresh store, the read models projected beside it (the
// projector of every registered projection, read through sql_directory), and a small test guard
// standing in for authentication: it takes the caller from an X-Test-User header (a user id) and
// checks each route's permission the way the real guard does. The organisation is seeded through
// the command side: teams A and B with a user of every role each, and a pipeline.
#pragma once

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/auth/auth_types.hpp"
#include "api/auth/permissions.hpp"
#include "api/crm/crm_routes.hpp"
#include "api/crm/sql_directory.hpp"
#include "api/error_mapping.hpp"
#include "api/http_pipeline.hpp"
#include "api/integrations/inbound_webhooks.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "commands/command_handler.hpp"
#include "commands/lead_scorer.hpp"
#include "infra/crypto/password_hasher.hpp"
#include "infra/event_store.hpp"
#include "infra/metrics.hpp"
#include "infra/privacy/subject_keys.hpp"
#include "infra/webhooks/webhook_store.hpp"
#include "infra/worker_pool.hpp"
#include "projections/projector.hpp"
#include "tests/api/test_client.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::test::crm {

inline constexpr const char* kUserHeader = "X-Test-User";

struct reply {
  int status = 0;
  api::header_map headers;
  std::string body;
  rapidjson::Document json;  // the parsed body (null when it is not JSON)

  std::string header(std::string_view name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  // A string member of the body ("" when absent).
  std::string str(const char* name) const;
  std::int64_t integer(const char* name) const;
  bool has(const char* name) const { return json.IsObject() && json.HasMember(name); }
};

// Who is who in the seeded organisation: per team, one user of each role but admin.
struct team_people {
  std::string team;
  std::string manager, rep, rep2, analyst, auditor;
};

// What a fixture serves besides the CRM routes.
struct fixture_options {
  // The inbound webhooks (POST /api/integrations/{provider}/webhook) with these secrets, when
  // set; `inbound_clock` is their time (the system clock when empty).
  std::optional<api::integrations::inbound_options> inbound;
  std::function<domain::timestamp()> inbound_clock;
};

class crm_fixture {
 public:
  // A backend's make_store_and_database(): the store and the read-model database beside it.
  explicit crm_fixture(testing::store_and_database backend, fixture_options options = {});
  ~crm_fixture();

  infra::event_store& store() { return *store_; }
  infra::sql::database& database() { return *db_; }
  infra::metrics_registry& metrics() { return metrics_; }
  commands::command_handler& handler() { return handler_; }
  api::crm::sql_directory& directory() { return *directory_; }
  projections::projector& projector() { return *projector_; }
  const api::router& routes() const { return routes_; }
  infra::webhooks::webhook_store& webhooks() { return webhooks_; }
  std::int64_t head() { return store_->head_position(); }
  // Waits until the read models have applied everything stored.
  void sync();
  // Waits until every read model, not only the records, has applied everything committed: for
  // routes over the others (analytics) read without min_position.
  void sync_all();

  // One request over HTTP as `user` (empty: unauthenticated). A body is sent as JSON.
  reply call(const std::string& method, const std::string& target, const std::string& user,
             const std::string& body = {},
             std::vector<std::pair<std::string, std::string>> headers = {});
  // The same, sending exactly these bytes (malformed or huge requests).
  reply raw(const std::string& bytes, bool head = false);

  std::string admin;
  team_people a, b;
  std::string loner;  // a sales rep in no team
  std::string pipeline;
  std::vector<std::string> stages;  // the pipeline's stage ids, in order

  // Records made through the API as `user`; each returns the new id (the test fails otherwise).
  std::string make_company(const std::string& user, const std::string& name = "Acme");
  std::string make_contact(const std::string& user, const std::string& last_name = "Lovelace");
  std::string make_lead(const std::string& user, const std::string& name = "Grace Hopper");
  std::string make_deal(const std::string& user, const std::string& title = "Big deal");
  std::string make_activity(const std::string& user, const std::string& deal);
  std::string make_task(const std::string& user, const std::string& title = "Call back");

 private:
  std::string seed_user(const std::string& name, domain::user_role role,
                        std::optional<std::string> team);
  std::string created_id(const reply& r);

  std::unique_ptr<infra::event_store> store_;
  std::unique_ptr<infra::sql::database> db_;  // destroyed before the store
  infra::privacy::subject_key_store subjects_{*db_};
  infra::webhooks::webhook_store webhooks_{*db_};
  std::unique_ptr<projections::projector> projector_;
  infra::crypto::password_hasher hasher_{infra::crypto::kOwaspMinimum};
  commands::command_handler handler_;
  std::unique_ptr<api::crm::sql_directory> directory_;
  std::unique_ptr<commands::lead_scorer> scorer_;  // on demand only: no schedule in tests
  std::unique_ptr<api::crm::crm_services> services_;
  infra::metrics_registry metrics_;
  std::unique_ptr<api::integrations::inbound_webhooks> inbound_;
  api::router routes_;
  infra::worker_pool pool_;
  std::unique_ptr<api::http_pipeline> pipeline_;
  std::unique_ptr<api::server> server_;
  std::unique_ptr<http_connection> connection_;
};

// Checks a problem+json answer: status, type slug ("validation") and, when given, the field.
void check_problem(const reply& r, int status, const std::string& type,
                   const std::string& field = {});

// A JSON string literal of `s`.
std::string quoted(const std::string& s);

}  // namespace realmkit::test::crm

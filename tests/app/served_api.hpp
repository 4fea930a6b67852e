// The HTTP API as `realmkit serve` wires it, served on a loopback port over a session backend,
// with the real-time hub on /ws: the fixture of the app's tests.
#pragma once

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>

#include "api/server.hpp"
#include "app/http_api.hpp"
#include "app/metered_event_store.hpp"
#include "app/realtime_services.hpp"
#include "commands/crm_commands.hpp"
#include "infra/privacy/private_event_store.hpp"
#include "realtime/hub.hpp"
#include "realtime/ws_endpoint.hpp"
#include "tests/api/auth/session_backends.hpp"
#include "tests/api/test_client.hpp"
#include "tests/auth/auth_test_support.hpp"

namespace realmkit::test {

using namespace std::chrono_literals;
using testing::postgres_session_backend;
using testing::sqlite_session_backend;

inline const std::string kPassword = "correct horse battery staple";

struct fake_steady_clock {
  std::shared_ptr<std::atomic<std::chrono::steady_clock::time_point>> now =
      std::make_shared<std::atomic<std::chrono::steady_clock::time_point>>(
          std::chrono::steady_clock::time_point{1h});
  infra::rate_limit::steady_clock_fn fn() const {
    return [n = now] { return n->load(); };
  }
};

inline app::http_api_options small_limits(const testing::fake_clock& clock,
                                          const fake_steady_clock& steady) {
  app::http_api_options o;
  o.clock = clock.fn();
  o.argon2 = infra::crypto::kOwaspMinimum;
  o.limits.clock = steady.fn();
  o.limits.policy.login_per_address = {3, 1, std::chrono::seconds{20}};
  o.trusted_origins = {"https://crm.example.com"};
  o.inbound.secrets = {{"twilio", "served-test-twilio-token"}};
  o.inbound.public_url = "https://crm.example.com";
  return o;
}

// The read-model database beside a session backend's store, as serve opens it.
inline std::unique_ptr<infra::sql::database> read_database(const sqlite_session_backend& backend) {
  return infra::sql::open_sqlite_database({.path = backend.dir.path() / "data" / "realmkit.db"});
}
inline std::unique_ptr<infra::sql::database> read_database(
    const postgres_session_backend& backend) {
  return infra::sql::open_postgres_database(
      {.url = backend.options.url, .schema = backend.options.schema});
}

inline projections::projector_options quick_projector() {
  projections::projector_options o;
  o.idle_wait = 20ms;
  o.retry_delay = 100ms;
  return o;
}

// What a test may change of the served API.
struct served_options {
  realtime::session_options session;
  std::chrono::seconds access_ttl = std::chrono::minutes{15};
  std::optional<app::openai_score_options> external_scoring;  // none: the local model
};

inline app::http_api_options with_served(app::http_api_options o, const served_options& s) {
  o.tokens.access_ttl = s.access_ttl;
  o.external_scoring = s.external_scoring;
  return o;
}

template <class Backend>
struct served_api {
  served_options options;  // first: the members below read it
  // The projector publishes room updates here; tests may publish too.
  std::shared_ptr<infra::in_process_room_bus> bus = std::make_shared<infra::in_process_room_bus>();
  Backend backend;
  testing::fake_clock clock;
  fake_steady_clock steady;
  infra::metrics_registry metrics;
  app::metered_event_store stored{*backend.store, metrics};
  // As serve wires it: personal fields sealed in the log, opened for the API and the projector.
  std::unique_ptr<infra::sql::database> keys_db = read_database(backend);
  infra::privacy::subject_key_store subjects{*keys_db};
  infra::privacy::private_event_store store{stored, subjects};
  api::readiness ready;
  app::read_models reads{store, read_database(backend), quick_projector(), {.rooms = bus}};
  app::http_api api{
      with_served(small_limits(clock, steady), options),     store,   reads, backend.refresh,
      api::auth::jwt_keyset({{"k1", std::string(32, 'k')}}), metrics, ready};
  infra::worker_pool pool{{.name = "db", .threads = 2}, &metrics};
  std::unique_ptr<api::http_pipeline> pipeline;
  app::sql_room_log room_log{reads.database()};
  app::crm_room_access room_access{api.queries()};
  realtime::hub hub{*bus, room_log, room_access, pool, {.metrics = &metrics}};
  std::unique_ptr<realtime::ws_endpoint> ws;
  std::unique_ptr<api::server> server;

  explicit served_api(served_options o = {}) : options(std::move(o)) {
    reads.start();
    // Options filled member by member: designated initializers here crash GCC 12 (an internal
    // compiler error in a template's constructor).
    api::pipeline_options quiet;
    quiet.access_log = false;
    pipeline = std::make_unique<api::http_pipeline>(api.routes(), metrics, quiet);
    api.install_guards(*pipeline);
    api::server_options loopback;
    loopback.host = "127.0.0.1";
    loopback.port = 0;
    server = std::make_unique<api::server>(loopback, *pipeline, pool, metrics);
    realtime::endpoint_options endpoint;
    endpoint.allowed_origins = {"https://crm.example.com"};
    endpoint.clock = clock.fn();
    ws = std::make_unique<realtime::ws_endpoint>(hub, api.tokens(), endpoint, options.session,
                                                 &metrics);
    server->add_upgrade_handler("/ws", *ws);
    server->start();
  }
  ~served_api() {
    ws->close_all(2s);
    server->stop();
    pool.stop();
  }

  void register_user(const std::string& id, const std::string& email, domain::user_role role,
                     std::optional<std::string> team = std::nullopt) {
    domain::register_user c;
    c.user = domain::user_id{id};
    c.email = email;
    c.display_name = id;
    c.role = role;
    if (team) {
      c.team = domain::team_id{*team};
      domain::create_team t;
      t.team = domain::team_id{*team};
      t.name = *team;
      commands::command_metadata tm;
      tm.actor = domain::user_id{"setup"};
      tm.now = clock.now();
      // Created once; a second user of the team finds it there.
      (void)commands::execute(api.commands(), domain::team_command{t}, tm);
    }
    c.password_hash = infra::crypto::password_hasher(infra::crypto::kOwaspMinimum).hash(kPassword);
    commands::command_metadata m;
    m.actor = domain::user_id{"setup"};
    m.now = clock.now();
    REQUIRE(commands::execute(api.commands(), domain::user_command{c}, m).ok());
  }

  http_reply request(const std::string& method, const std::string& target,
                     std::vector<std::pair<std::string, std::string>> headers = {},
                     const std::string& body = "") {
    http_connection c(server->port());
    const bool typed = std::any_of(headers.begin(), headers.end(),
                                   [](const auto& h) { return h.first == "Content-Type"; });
    if (!body.empty() && !typed) headers.emplace_back("Content-Type", "application/json");
    return c.request(method, target, std::move(headers), body);
  }

  http_reply login(const std::string& email) {
    return request("POST", "/api/auth/login", {},
                   "{\"email\":\"" + email + "\",\"password\":\"" + kPassword + "\"}");
  }
};

inline std::string access_token_of(const http_reply& reply) {
  rapidjson::Document d;
  d.Parse(reply.body.c_str());
  REQUIRE(d.IsObject());
  REQUIRE(d.HasMember("access_token"));
  return d["access_token"].GetString();
}

}  // namespace realmkit::test

#include "tests/api/crm/crm_fixture.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "commands/crm_commands.hpp"
#include "infra/ids.hpp"
#include "projections/registry.hpp"

namespace realmkit::test::crm {
namespace {

using namespace std::chrono_literals;

commands::command_metadata system_meta() {
  commands::command_metadata m;
  m.actor = domain::user_id{"system"};
  m.now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  return m;
}

// Authentication stand-in: the caller is the user named by X-Test-User, as the read side knows
// them; each route's permission is checked as the real guard does.
api::guard test_guard(api::crm::crm_queries& queries) {
  return [&queries](const api::route& route,
                    api::http_request& request) -> std::optional<api::http_response> {
    const auto* user = request.header(kUserHeader);
    if (!user) return std::nullopt;  // the handler answers 401
    const auto account = queries.user_by_id(*user);
    if (!account || !account->active) {
      return api::to_response(api::make_problem(api::problem_kind::unauthorized, "unknown user"),
                              request.request_id);
    }
    api::auth::principal p;
    p.user_id = account->user_id;
    p.role = account->role;
    p.team_id = account->team_id;
    p.token_id = "test";
    request.principal = p;
    if (!route.permission.empty()) {
      const auto needed = api::auth::permission_from_string(route.permission);
      if (!needed || !api::auth::has_permission(p.role, *needed)) {
        return api::to_response(api::make_problem(api::problem_kind::forbidden, route.permission),
                                request.request_id);
      }
    }
    return std::nullopt;
  };
}

infra::webhooks::resolver test_dns() {
  return [](const std::string& host) {
    const auto one = [](const char* address) {
      return std::vector<infra::webhooks::ip_address>{*infra::webhooks::parse_ip(address)};
    };
    if (host.ends_with(".example.com")) return one("93.184.215.14");
    if (host == "internal.example.net") return one("10.1.2.3");
    return infra::webhooks::system_resolver()(host);
  };
}

}  // namespace

std::string reply::str(const char* name) const {
  if (!json.IsObject() || !json.HasMember(name) || !json[name].IsString()) return {};
  return json[name].GetString();
}

std::int64_t reply::integer(const char* name) const {
  if (!json.IsObject() || !json.HasMember(name) || !json[name].IsInt64()) return -1;
  return json[name].GetInt64();
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

crm_fixture::crm_fixture(testing::store_and_database backend, fixture_options extra)
    : store_(std::move(backend.store)),
      db_(std::move(backend.db)),
      handler_(*store_),
      pool_({.name = "crm-test", .threads = 4, .queue_limit = 1024}, &metrics_) {
  projections::projector_options projecting;
  projecting.idle_wait = 20ms;
  projecting.retry_delay = 100ms;
  projector_ = std::make_unique<projections::projector>(*store_, *db_,
                                                        projections::all_projections(), projecting);
  projector_->start();
  directory_ = std::make_unique<api::crm::sql_directory>(*db_, projector_.get());
  scorer_ = std::make_unique<commands::lead_scorer>(handler_, *db_);
  services_.reset(new api::crm::crm_services{
      .handler = handler_,
      .queries = *directory_,
      .clock =
          [] {
            return std::chrono::time_point_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now());
          },
      .new_id = [] { return infra::new_uuid_v7(); },
      .hasher = &hasher_,
      .max_wait = 2s,
      .read_db = db_.get(),
      .projector = projector_.get(),
      .subjects = &subjects_,
      .scorer = scorer_.get(),
      .webhooks = &webhooks_,
      // Webhook targets as DNS would resolve them, without a network: the names of these tests
      // point at a public address (example.com's) or, for the SSRF tests, at private ones; any
      // other name goes to the system's resolver (localhost).
      .webhook_targets = {.allow_private = false, .resolve = test_dns()}});
  api::crm::add_crm_routes(routes_, *services_);
  if (extra.inbound) {
    auto clock = extra.inbound_clock ? extra.inbound_clock : services_->clock;
    inbound_ = std::make_unique<api::integrations::inbound_webhooks>(
        std::move(*extra.inbound), handler_, *db_, std::move(clock), &metrics_);
    api::integrations::add_inbound_webhook_route(routes_, *inbound_);
  }
  api::pipeline_options options;
  options.access_logger = std::make_shared<spdlog::logger>(
      "crm-test-access", std::make_shared<spdlog::sinks::null_sink_mt>());
  pipeline_ = std::make_unique<api::http_pipeline>(routes_, metrics_, options);
  pipeline_->add_guard(test_guard(*directory_));
  server_ = std::make_unique<api::server>(api::server_options{.host = "127.0.0.1", .port = 0},
                                          *pipeline_, pool_, metrics_);
  server_->start();

  // The organisation, seeded through the command side.
  const auto meta = system_meta();
  for (auto* people : {&a, &b}) {
    people->team = infra::new_uuid_v7();
    REQUIRE(commands::execute(handler_,
                              domain::team_command{domain::create_team{
                                  domain::team_id{people->team}, people == &a ? "Team A" : "Team B",
                                  std::nullopt}},
                              meta)
                .ok());
  }
  admin = seed_user("admin", domain::user_role::admin, std::nullopt);
  for (auto* people : {&a, &b}) {
    const std::string suffix = people == &a ? "-a" : "-b";
    people->manager = seed_user("manager" + suffix, domain::user_role::manager, people->team);
    people->rep = seed_user("rep" + suffix, domain::user_role::sales_rep, people->team);
    people->rep2 = seed_user("rep2" + suffix, domain::user_role::sales_rep, people->team);
    people->analyst = seed_user("analyst" + suffix, domain::user_role::analyst, people->team);
    people->auditor = seed_user("auditor" + suffix, domain::user_role::auditor, people->team);
  }
  loner = seed_user("loner", domain::user_role::sales_rep, std::nullopt);
  pipeline = infra::new_uuid_v7();
  domain::create_pipeline p{domain::pipeline_id{pipeline}, "Sales", {}};
  for (const auto* name : {"Lead", "Proposal", "Negotiation"}) {
    stages.push_back(infra::new_uuid_v7());
    p.stages.push_back({domain::stage_id{stages.back()}, name, 30});
  }
  REQUIRE(commands::execute(handler_, domain::pipeline_command{p}, meta).ok());
  sync();
}

crm_fixture::~crm_fixture() {
  connection_.reset();
  server_->stop();
  pool_.stop();
  projector_->stop();
}

std::string crm_fixture::seed_user(const std::string& name, domain::user_role role,
                                   std::optional<std::string> team) {
  domain::register_user c;
  c.user = domain::user_id{infra::new_uuid_v7()};
  c.email = name + "@example.com";
  c.display_name = name;
  c.role = role;
  if (team) c.team = domain::team_id{*team};
  REQUIRE(commands::execute(handler_, domain::user_command{c}, system_meta()).ok());
  return c.user.value;
}

void crm_fixture::sync() {
  REQUIRE(directory_->wait_for(store_->head_position(), 10s));
}

void crm_fixture::sync_all() {
  REQUIRE(projector_->wait_for(store_->head_position(), 30s));
}

reply crm_fixture::call(const std::string& method, const std::string& target,
                        const std::string& user, const std::string& body,
                        std::vector<std::pair<std::string, std::string>> headers) {
  if (!user.empty()) headers.emplace_back(kUserHeader, user);
  const bool typed = std::any_of(headers.begin(), headers.end(), [](const auto& h) {
    return api::iequals(h.first, "Content-Type");
  });
  if (!body.empty() && !typed) headers.emplace_back("Content-Type", "application/json");
  return raw(raw_request(method, target, std::move(headers), body), method == "HEAD");
}

reply crm_fixture::raw(const std::string& bytes, bool head) {
  if (!connection_) connection_ = std::make_unique<http_connection>(server_->port());
  // A refused huge body may be cut off by the server while it is sent; its answer still comes.
  (void)connection_->try_send(bytes);
  auto r = connection_->read_reply(head);
  if (!r.keep_alive) connection_.reset();
  reply out;
  out.status = r.status;
  out.headers = std::move(r.headers);
  out.body = std::move(r.body);
  out.json.Parse(out.body.c_str(), out.body.size());
  if (out.json.HasParseError()) out.json.SetNull();
  return out;
}

std::string crm_fixture::created_id(const reply& r) {
  INFO(r.body);
  REQUIRE(r.status == 201);
  const auto id = r.str("id");
  REQUIRE_FALSE(id.empty());
  REQUIRE(directory_->wait_for(r.integer("position"), 10s));
  return id;
}

std::string crm_fixture::make_company(const std::string& user, const std::string& name) {
  return created_id(call("POST", "/api/companies", user, R"({"name":)" + quoted(name) + "}"));
}

std::string crm_fixture::make_contact(const std::string& user, const std::string& last_name) {
  return created_id(call("POST", "/api/contacts", user,
                         R"({"first_name":"Ada","last_name":)" + quoted(last_name) + "}"));
}

std::string crm_fixture::make_lead(const std::string& user, const std::string& name) {
  return created_id(call(
      "POST", "/api/leads", user,
      R"({"name":)" + quoted(name) + R"(,"email":"grace@example.com","company_name":"Navy"})"));
}

std::string crm_fixture::make_deal(const std::string& user, const std::string& title) {
  return created_id(call("POST", "/api/deals", user,
                         R"({"pipeline_id":")" + pipeline + R"(","stage_id":")" + stages[0] +
                             R"(","title":)" + quoted(title) +
                             R"(,"value":{"amount_minor":100000,"currency":"EUR"}})"));
}

std::string crm_fixture::make_activity(const std::string& user, const std::string& deal) {
  return created_id(call("POST", "/api/activities", user,
                         R"({"type":"call","subject":{"kind":"deal","id":")" + deal +
                             R"("},"summary":"Intro call","occurred_at":"2026-11-27T10:00:00Z",)"
                             R"("duration_minutes":30})"));
}

std::string crm_fixture::make_task(const std::string& user, const std::string& title) {
  return created_id(call("POST", "/api/tasks", user, R"({"title":)" + quoted(title) + "}"));
}

void check_problem(const reply& r, int status, const std::string& type, const std::string& field) {
  INFO(r.body);
  CHECK(r.status == status);
  CHECK(r.header("Content-Type") == "application/problem+json");
  CHECK(r.str("type") == "urn:realmkit:problem:" + type);
  if (!field.empty()) CHECK(r.str("field") == field);
}

}  // namespace realmkit::test::crm

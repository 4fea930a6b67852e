#include "api/integrations/inbound_webhooks.hpp"

#include <spdlog/spdlog.h>

#include "api/crm/crm_json.hpp"
#include "api/error_mapping.hpp"
#include "api/integrations/calendly_provider.hpp"
#include "api/integrations/mailgun_provider.hpp"
#include "api/integrations/twilio_provider.hpp"
#include "api/problem.hpp"

namespace realmkit::api::integrations {
namespace {

constexpr const char* kAnswerSchema =
    R"({"type":"object","required":["items","ignored","position"],"properties":{)"
    R"("items":{"type":"array","items":{"type":"object","properties":{)"
    R"("message_id":{"type":"string"},)"
    R"("outcome":{"type":"string","enum":["logged","updated","duplicate","unmatched"]},)"
    R"("activity_id":{"type":["string","null"]},"contact_id":{"type":["string","null"]}}}},)"
    R"("ignored":{"type":["string","null"]},"position":{"type":"integer"}}})";

std::string header_or(const http_request& request, std::string_view name, std::string fallback) {
  const auto* value = request.header(name);
  if (!value || value->empty()) return fallback;
  // A proxy chain lists several: the first is the client's view.
  return value->substr(0, value->find(','));
}

}  // namespace

std::vector<std::unique_ptr<integration_provider>> known_providers() {
  std::vector<std::unique_ptr<integration_provider>> out;
  out.push_back(std::make_unique<mailgun_provider>());
  out.push_back(std::make_unique<calendly_provider>());
  out.push_back(std::make_unique<twilio_provider>());
  return out;
}

inbound_webhooks::inbound_webhooks(inbound_options options, commands::command_handler& handler,
                                   infra::sql::database& read_db,
                                   std::function<domain::timestamp()> clock,
                                   infra::metrics_registry* metrics)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      metrics_(metrics),
      providers_(known_providers()),
      log_(handler, read_db, metrics) {
  while (!options_.public_url.empty() && options_.public_url.back() == '/') {
    options_.public_url.pop_back();
  }
}

inbound_webhooks::~inbound_webhooks() = default;

std::vector<std::string> inbound_webhooks::enabled() const {
  std::vector<std::string> out;
  for (const auto& p : providers_) {
    const auto secret = options_.secrets.find(p->name());
    if (secret != options_.secrets.end() && !secret->second.empty()) {
      out.emplace_back(p->name());
    }
  }
  return out;
}

void inbound_webhooks::count(std::string_view provider, std::string_view stage) {
  if (!metrics_) return;
  metrics_
      ->counter_for("realmkit_inbound_webhooks_total",
                    "Inbound webhook calls by provider: received, verified, rejected (bad or "
                    "missing signature), malformed (payload refused)",
                    {{"provider", std::string(provider)}, {"stage", std::string(stage)}})
      .inc();
}

std::string inbound_webhooks::url_of(const http_request& request) const {
  if (!options_.public_url.empty()) return options_.public_url + request.target;
  return header_or(request, "X-Forwarded-Proto", "https") + "://" +
         header_or(request, "X-Forwarded-Host", header_or(request, "Host", "")) + request.target;
}

http_response inbound_webhooks::handle(const http_request& request) {
  const auto name = request.path_param("provider");
  const integration_provider* provider = nullptr;
  for (const auto& p : providers_) {
    if (p->name() == name) provider = p.get();
  }
  const auto secret = options_.secrets.find(name);
  if (!provider || secret == options_.secrets.end() || secret->second.empty()) {
    throw problem_error(make_problem(problem_kind::not_found, "no such integration is enabled"));
  }
  count(name, "received");

  const auto url = url_of(request);
  const webhook_request hook{request.headers, request.body, url};
  const auto verdict = provider->verify(hook, secret->second, clock_());
  if (!verdict.ok) {
    count(name, "rejected");
    if (metrics_) {
      metrics_
          ->counter_for("realmkit_inbound_rejected_total",
                        "Inbound webhook calls refused for their signature, by reason",
                        {{"provider", std::string(name)}, {"reason", verdict.reason}})
          .inc();
    }
    // The reason stays in the log: telling a forger why helps only the forger.
    spdlog::warn("inbound {} webhook refused: signature {} (request {}, from {})", name,
                 verdict.reason, request.request_id, request.remote_address);
    throw problem_error(
        make_problem(problem_kind::unauthorized, "the webhook signature does not verify"));
  }
  count(name, "verified");

  parsed_payload payload;
  try {
    payload = provider->parse(hook);
  } catch (const problem_error&) {
    count(name, "malformed");
    throw;
  }
  const inbound_context context{clock_(), request.request_id, request.remote_address};
  std::vector<inbound_outcome> outcomes;
  for (const auto& m : payload.messages) outcomes.push_back(log_.record(name, m, context));

  crm::json_out out;
  out.begin_object().key("items").begin_array();
  std::int64_t position = 0;
  for (const auto& o : outcomes) {
    out.begin_object();
    out.key("message_id").string(o.message_id);
    out.key("outcome").string(to_string(o.result));
    out.key("activity_id");
    o.activity_id.empty() ? out.null() : out.string(o.activity_id);
    out.key("contact_id");
    o.contact_id.empty() ? out.null() : out.string(o.contact_id);
    out.end_object();
    position = std::max(position, o.position);
  }
  out.end_array();
  out.key("ignored");
  payload.messages.empty() ? out.string(payload.ignored) : out.null();
  out.key("position").integer(position);
  out.end_object();

  http_response response;
  if (const auto own = provider->success_body()) {
    response = http_response::text(200, own->second, own->first);
  } else {
    response = http_response::json(200, out.take());
  }
  // Also on an answer in the provider's own format: what happened, for logs and tests.
  if (!outcomes.empty()) {
    response.headers.emplace("X-Inbound-Outcome", std::string(to_string(outcomes.front().result)));
    if (!outcomes.front().activity_id.empty()) {
      response.headers.emplace("X-Inbound-Activity", outcomes.front().activity_id);
    }
  } else {
    response.headers.emplace("X-Inbound-Outcome", "ignored");
  }
  return response;
}

void add_inbound_webhook_route(router& routes, inbound_webhooks& webhooks) {
  route r;
  r.method = "POST";
  r.pattern = "/api/integrations/{provider}/webhook";
  r.name = "integrations.webhook";
  r.anonymous = true;  // the provider's signature authenticates the request
  r.blocking = true;   // matching and logging read and write the databases
  r.summary =
      "Inbound webhook of an integration provider (mailgun, calendly, twilio), authenticated by "
      "its signature: logs the e-mail, meeting, SMS or call on the matching contact";
  r.response_schema = kAnswerSchema;
  r.handle = [&webhooks](const http_request& request) { return webhooks.handle(request); };
  routes.add(std::move(r));
}

}  // namespace realmkit::api::integrations

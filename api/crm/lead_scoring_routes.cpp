// /api/leads/scoring: the lead scoring model in use, and retraining it on demand.
#include "api/crm/crm_json.hpp"
#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"
#include "commands/lead_scorer.hpp"

namespace realmkit::api::crm {
namespace {

using perm = auth::permission;

const std::string kModel =
    R"({"type":["object","null"],"properties":{"version":{"type":"string"},)"
    R"("provider":{"type":"string"},"remote_model":{"type":["string","null"]},)"
    R"("trained_on":{"type":"integer"},"held_out":{"type":"integer"},)"
    R"("holdout_auc":{"type":["number","null"]},"base_rate":{"type":"number"},)"
    R"("weights":{"type":"object","additionalProperties":{"type":"number"}}}})";
const std::string kModelSchema =
    R"({"type":"object","required":["model"],"properties":{"model":)" + kModel + "}}";
const std::string kRunSchema =
    R"({"type":"object","required":["model","history","open_leads","scored"],"properties":{)"
    R"("model":)" +
    kModel +
    R"(,"history":{"type":"integer"},"open_leads":{"type":"integer"},"scored":{"type":"integer"},)"
    R"("failed":{"type":"integer"}}})";

commands::lead_scorer& scorer_of(const request_scope& scope) {
  auto* scorer = scope.services().scorer;
  if (scorer == nullptr) {
    problem p;
    p.status = 503;
    p.type = "urn:realmkit:problem:unavailable";
    p.title = "Lead scoring is not available in this process";
    p.detail = "serve the api role together with the projector role, or ask a process that does";
    throw problem_error(std::move(p));
  }
  return *scorer;
}

void write_model(json_out& out, const std::optional<domain::lead_score_model>& model) {
  if (!model) {
    out.null();
    return;
  }
  out.begin_object();
  out.key("version").string(model->version);
  out.key("provider").string(model->provider);
  out.key("remote_model");
  if (model->remote_model.empty()) {
    out.null();
  } else {
    out.string(model->remote_model);
  }
  out.key("trained_on").integer(static_cast<std::int64_t>(model->trained_on));
  out.key("held_out").integer(static_cast<std::int64_t>(model->held_out));
  out.key("holdout_auc");
  if (model->holdout_auc) {
    out.number(*model->holdout_auc);
  } else {
    out.null();
  }
  out.key("base_rate").number(model->base_rate);
  // An external model's weights are its own: none to show.
  out.key("weights").begin_object();
  for (std::size_t i = 0; i < model->weights.size(); ++i) {
    if (!model->feature_names[i].empty()) {
      out.key(model->feature_names[i]).number(model->weights[i]);
    }
  }
  out.end_object();
  out.end_object();
}

}  // namespace

void add_lead_scoring_routes(router& routes, crm_services& services) {
  add_action_route(routes, services, "GET", "/api/leads/scoring", "leads.scoring_model",
                   perm::lead_view,
                   "The lead scoring model in use: version, held-out AUC and weights", kModelSchema,
                   [](request_scope& scope) {
                     json_out out;
                     out.begin_object().key("model");
                     write_model(out, scorer_of(scope).model());
                     out.end_object();
                     return http_response::json(200, out.take());
                   });
  add_action_route(
      routes, services, "POST", "/api/leads/scoring/retrain", "leads.scoring_retrain",
      perm::admin_access,
      "Train the lead scoring model on the history as it stands now and rescore every open "
      "lead",
      kRunSchema, [](request_scope& scope) {
        const auto run = scorer_of(scope).retrain();
        json_out out;
        out.begin_object().key("model");
        write_model(out, run.model);
        out.key("history").integer(static_cast<std::int64_t>(run.history));
        out.key("open_leads").integer(static_cast<std::int64_t>(run.open_leads));
        out.key("scored").integer(static_cast<std::int64_t>(run.scored));
        out.key("failed").integer(static_cast<std::int64_t>(run.failed));
        out.end_object();
        return http_response::json(200, out.take());
      });
}

}  // namespace realmkit::api::crm

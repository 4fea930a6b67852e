// GET /api/deals/next-steps: the open deals nobody has planned anything for (no open task linked
// to them), each with the step domain::suggest_next_step advises, ready to become a task.
#include <map>

#include "api/crm/crm_json.hpp"
#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "domain/deal/deal_next_step.hpp"
#include "projections/records/records_schema.hpp"
#include "projections/support/statement_batch.hpp"
#include "projections/timeline/timeline_projection.hpp"

namespace realmkit::api::crm {
namespace {

namespace sql = infra::sql;

const std::string kItemProperties =
    R"("id":{"type":"string"},"deal":{"type":"object"},"next_step":{"type":"object","properties":{)"
    R"("action":{"type":"string","enum":["first_contact","re_engage","update_close_date",)"
    R"("confirm_decision","discovery","proposal","negotiate"]},"title":{"type":"string"},)"
    R"("reason":{"type":"string"},"due_in_days":{"type":"integer","minimum":0}}})";

// When each deal last had an activity logged about it, from the timelines.
std::map<std::string, domain::timestamp> last_activities(sql::session& db,
                                                         const std::vector<deal_view>& deals) {
  std::map<std::string, domain::timestamp> out;
  if (deals.empty()) return out;
  std::vector<std::string> ids;
  for (const auto& d : deals) ids.push_back(d.meta.id);
  const sql::value params[] = {projections::support::json_array(ids)};
  const auto rows = db.query(
      "SELECT entity_id, MAX(at_us) FROM rm_timeline WHERE entity_kind = 'deal' AND entry = "
      "'activity' AND entity_id IN (" +
          projections::support::key_set(db.dialect(), 1) + ") GROUP BY entity_id",
      params);
  for (const auto& r : rows) {
    out.emplace(r.text(0), domain::timestamp{std::chrono::microseconds{r.integer(1)}});
  }
  return out;
}

http_response list_next_steps(request_scope& scope, sql::session& db) {
  auto q = list_params(scope, {"owner", "team", "stage", "pipeline"}, true);
  q.status = "open";
  q.without_open_task = true;
  const auto deals = scope.services().queries.list_deals(q);
  const auto last = last_activities(db, deals.items);
  const auto now = scope.services().clock();
  std::map<std::string, std::optional<pipeline_view>> pipelines;
  json_out out;
  out.begin_object().key("items").begin_array();
  for (const auto& deal : deals.items) {
    const auto& d = deal.state;
    auto [it, added] = pipelines.try_emplace(d.pipeline.value);
    if (added) it->second = scope.services().queries.find_pipeline(d.pipeline.value);
    domain::pipeline_stage stage{d.stage, d.stage.value, 0};
    if (it->second) {
      for (const auto& s : it->second->state.stages) {
        if (s.id == d.stage) stage = s;
      }
    }
    const auto activity = last.find(deal.meta.id);
    const auto step = domain::suggest_next_step(
        d, stage,
        activity == last.end() ? std::nullopt : std::optional<domain::timestamp>(activity->second),
        now);
    out.begin_object().key("id").string(deal.meta.id).key("deal");
    write(out, deal);
    out.key("next_step").begin_object();
    out.key("action").string(step.action);
    out.key("title").string(step.title);
    out.key("reason").string(step.reason);
    out.key("due_in_days").integer(step.days_due);
    out.end_object();
    out.end_object();
  }
  out.end_array();
  out.key("next_cursor").optional_string(deals.next_cursor);
  out.key("position").integer(deals.position);
  out.end_object();
  return http_response::json(200, out.take());
}

}  // namespace

void add_next_step_routes(router& routes, crm_services& services) {
  // Deals and tasks come from the records read model, the last activity from the timelines:
  // min_position waits for both.
  add_read_route(routes, services, "/api/deals/next-steps", "deals.next_steps",
                 auth::permission::deal_view,
                 "Open deals without an open task, each with a suggested next step (filters: "
                 "owner, team, stage, pipeline)",
                 page_schema(kItemProperties),
                 {std::string(projections::records::kProjectionName),
                  std::string(projections::timeline::kProjectionName)},
                 list_next_steps);
}

}  // namespace realmkit::api::crm

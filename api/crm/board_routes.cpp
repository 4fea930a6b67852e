// GET /api/pipelines/{id}/board: the pipeline board from the board read model — per stage the
// count, totals per currency and weighted totals of the open deals the caller may see, and a
// page of their cards in the order they entered the stage (docs/crm-api.md, "Read models").
#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "projections/board/board_projection.hpp"
#include "projections/board/board_query.hpp"

namespace realmkit::api::crm {
namespace {

namespace board = projections::board;

// Money: {amount_minor, currency}, inlined (a $ref would resolve against the whole document).
#define REALMKIT_MONEY_SCHEMA                                                 \
  R"({"type":"object","required":["amount_minor","currency"],"properties":{)" \
  R"("amount_minor":{"type":"integer"},"currency":{"type":"string"}}})"

constexpr const char* kBoardSchema =
    R"({"type":"object","required":["pipeline_id","name","stages","position"],"properties":{)"
    R"("pipeline_id":{"type":"string"},"name":{"type":"string"},"archived":{"type":"boolean"},)"
    R"("position":{"type":"integer"},"stages":{"type":"array","items":{"type":"object",)"
    R"("required":["id","name","count","total","weighted","deals","next_cursor"],"properties":{)"
    R"("id":{"type":"string"},"name":{"type":"string"},"probability":{"type":"integer"},)"
    R"("count":{"type":"integer"},"total":{"type":"array","items":)" REALMKIT_MONEY_SCHEMA
    R"(},"weighted":{"type":"array","items":)" REALMKIT_MONEY_SCHEMA
    R"(},"next_cursor":{"type":["string","null"]},"deals":{"type":"array","items":{)"
    R"("type":"object","required":["id","title","value","version"],"properties":{)"
    R"("id":{"type":"string"},"title":{"type":"string"},"value":)" REALMKIT_MONEY_SCHEMA
    R"(,"version":{"type":"integer"},"owner_id":{"type":"string"},)"
    R"("owner_name":{"type":["string","null"]},"company_id":{"type":["string","null"]},)"
    R"("company_name":{"type":["string","null"]},)"
    R"("expected_close_date":{"type":["string","null"],"format":"date"},)"
    R"("stage_entered_at":{"type":"string","format":"date-time"},)"
    R"("days_in_stage":{"type":"integer"}}}}}}}}})";

#undef REALMKIT_MONEY_SCHEMA

void write_card(json_out& out, const board::card& c, domain::timestamp now) {
  out.begin_object();
  out.key("id").string(c.id);
  out.key("title").string(c.title);
  out.key("value").money(c.value);
  out.key("version").integer(c.version);
  out.key("owner_id").string(c.owner_id);
  out.key("owner_name").optional_string(c.owner_name);
  out.key("company_id").optional_string(c.company_id);
  out.key("company_name").optional_string(c.company_name);
  out.key("expected_close_date").optional_string(c.expected_close_date);
  out.key("stage_entered_at").time(c.stage_entered_at);
  const auto days = now < c.stage_entered_at
                        ? 0
                        : std::chrono::floor<std::chrono::days>(now - c.stage_entered_at).count();
  out.key("days_in_stage").integer(days);
  out.end_object();
}

void write_amounts(json_out& out, const std::vector<domain::money>& amounts) {
  out.begin_array();
  for (const auto& m : amounts) out.money(m);
  out.end_array();
}

}  // namespace

std::string_view board_schema() {
  return kBoardSchema;
}

http_response answer_board(request_scope& scope, infra::sql::session& db, const query_reader& q,
                           domain::timestamp now) {
  board::board_request request;
  request.pipeline_id = path_id(scope.request());
  request.owner = q.id("owner");
  request.team = q.id("team");
  request.stage = q.id("stage");
  request.limit = q.limit(board::kDefaultCardsPerStage, board::kMaxCardsPerStage);
  if (const auto cursor = q.text("cursor")) {
    request.after = board::decode_board_cursor(*cursor);
    if (!request.after) fail("cursor", "is not a cursor this API gave out");
    if (request.stage && *request.stage != request.after->stage_id) {
      fail("cursor", "belongs to another stage than `stage`");
    }
  }
  request.only_team = scope.only_team();
  const auto view = board::read_board(db, request);
  if (!view) not_found("pipeline does not exist");
  if ((request.stage || request.after) && view->stages.empty()) {
    fail(request.stage ? "stage" : "cursor", "names no stage of this pipeline");
  }
  json_out out;
  out.begin_object();
  out.key("pipeline_id").string(view->pipeline_id);
  out.key("name").string(view->name);
  out.key("archived").boolean(view->archived);
  out.key("stages").begin_array();
  for (const auto& s : view->stages) {
    out.begin_object();
    out.key("id").string(s.id);
    out.key("name").string(s.name);
    out.key("probability").integer(s.probability);
    out.key("count").integer(s.count);
    out.key("total");
    write_amounts(out, s.total);
    out.key("weighted");
    write_amounts(out, s.weighted);
    out.key("deals").begin_array();
    for (const auto& c : s.deals) write_card(out, c, now);
    out.end_array();
    out.key("next_cursor").optional_string(s.next_cursor);
    out.end_object();
  }
  out.end_array();
  out.key("position").integer(view->position);
  out.end_object();
  return http_response::json(200, out.take());
}

namespace {

http_response get_board(request_scope& scope, infra::sql::session& db) {
  const query_reader q(scope.request(), {"owner", "team", "stage", "cursor", "limit"});
  return answer_board(scope, db, q, scope.services().clock());
}

}  // namespace

void add_board_routes(router& routes, crm_services& services) {
  add_read_route(routes, services, "/api/pipelines/{id}/board", "board.get",
                 auth::permission::deal_view,
                 "The pipeline board: per stage count, totals and a page of open deals "
                 "(filters: owner, team; paging: stage, cursor, limit)",
                 kBoardSchema, {std::string(board::kProjectionName)}, get_board);
}

}  // namespace realmkit::api::crm

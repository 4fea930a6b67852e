// GET /api/{deals,contacts,companies,leads}/{id}/timeline: a record's timeline from the timeline
// read model — its own events with who and when, its activities and linked tasks — newest
// first. The record must be one the caller sees (404 otherwise, like GET of the record); its
// activities and tasks of owners outside the caller's scope are left out.
#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "projections/records/records_schema.hpp"
#include "projections/timeline/timeline_projection.hpp"
#include "projections/timeline/timeline_query.hpp"

namespace realmkit::api::crm {
namespace {

namespace timeline = projections::timeline;

const std::string kItemProperties =
    R"("entry":{"type":"string","enum":["event","activity","task"]},"type":{"type":"string"},)"
    R"("at":{"type":"string","format":"date-time"},"position":{"type":"integer"},)"
    R"("actor_id":{"type":["string","null"]},"actor_name":{"type":["string","null"]},)"
    R"("data":{"type":"object"},"version":{"type":"integer"},"item_id":{"type":"string"},)"
    R"("owner_id":{"type":"string"},"owner_name":{"type":["string","null"]},)"
    R"("summary":{"type":"string"},"body":{"type":"string"},)"
    R"("status":{"type":"string","enum":["open","done"]},)"
    R"("due_at":{"type":["string","null"],"format":"date-time"},)"
    R"("duration_minutes":{"type":["integer","null"]},"priority":{"type":"string"})";

void write_entry(json_out& out, const timeline::entry& e) {
  out.begin_object();
  out.key("entry").string(e.entry);
  out.key("type").string(e.type);
  out.key("at").time(e.at);
  out.key("position").integer(e.position);
  out.key("actor_id").optional_string(e.actor_id);
  out.key("actor_name").optional_string(e.actor_name);
  if (e.entry == "event") {
    out.key("data").raw(e.data.value_or("{}"));
    out.key("version").integer(e.version.value_or(0));
  } else {
    out.key("item_id").optional_string(e.item_id);
    out.key("owner_id").optional_string(e.owner_id);
    out.key("owner_name").optional_string(e.owner_name);
    out.key("summary").optional_string(e.summary);
    out.key("body").optional_string(e.body);
    if (e.entry == "task") {
      out.key("status").optional_string(e.status);
      out.key("due_at");
      if (e.due_at) {
        out.time(*e.due_at);
      } else {
        out.null();
      }
      out.key("priority").optional_string(e.priority);
    } else {
      out.key("duration_minutes");
      if (e.duration_minutes) {
        out.integer(*e.duration_minutes);
      } else {
        out.null();
      }
    }
  }
  out.end_object();
}

// 404 unless the record exists and the caller sees it, as GET of the record answers.
void check_visible(const request_scope& scope, domain::entity_kind kind, const std::string& id) {
  const auto& q = scope.services().queries;
  switch (kind) {
    case domain::entity_kind::deal:
      visible_or_404(scope, q.find_deal(id), "deal");
      return;
    case domain::entity_kind::contact:
      visible_or_404(scope, q.find_contact(id), "contact");
      return;
    case domain::entity_kind::company:
      visible_or_404(scope, q.find_company(id), "company");
      return;
    case domain::entity_kind::lead:
      visible_or_404(scope, q.find_lead(id), "lead");
      return;
  }
}

read_handler timeline_of(domain::entity_kind kind) {
  return [kind](request_scope& scope, infra::sql::session& db) {
    const query_reader q(scope.request(), {"cursor", "limit"});
    timeline::timeline_request request;
    request.entity_kind = std::string(to_string(kind));
    request.entity_id = path_id(scope.request());
    request.limit = q.limit(timeline::kDefaultEntries, timeline::kMaxEntries);
    if (const auto cursor = q.text("cursor")) {
      request.after = timeline::decode_timeline_cursor(*cursor);
      if (!request.after) fail("cursor", "is not a cursor this API gave out");
    }
    check_visible(scope, kind, request.entity_id);
    request.only_team = scope.only_team();
    const auto page = timeline::read_timeline(db, request);
    json_out out;
    out.begin_object().key("items").begin_array();
    for (const auto& e : page.entries) write_entry(out, e);
    out.end_array();
    out.key("next_cursor").optional_string(page.next_cursor);
    out.key("position").integer(page.position);
    out.end_object();
    return http_response::json(200, out.take());
  };
}

void add_timeline(router& routes, crm_services& services, std::string collection,
                  domain::entity_kind kind, auth::permission permission) {
  const auto what = std::string(to_string(kind));
  // The record's visibility comes from the records read model, the entries from the timeline:
  // min_position waits for both.
  add_read_route(
      routes, services, "/api/" + collection + "/{id}/timeline", collection + ".timeline",
      permission, "A " + what + "'s timeline: its events, activities and tasks, newest first",
      page_schema(kItemProperties),
      {std::string(projections::records::kProjectionName), std::string(timeline::kProjectionName)},
      timeline_of(kind));
}

}  // namespace

void add_timeline_routes(router& routes, crm_services& services) {
  add_timeline(routes, services, "deals", domain::entity_kind::deal, auth::permission::deal_view);
  add_timeline(routes, services, "contacts", domain::entity_kind::contact,
               auth::permission::contact_view);
  add_timeline(routes, services, "companies", domain::entity_kind::company,
               auth::permission::company_view);
  add_timeline(routes, services, "leads", domain::entity_kind::lead, auth::permission::lead_view);
}

}  // namespace realmkit::api::crm

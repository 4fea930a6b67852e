// The data subject's rights (GDPR): erasure (art. 17) and access (art. 15) for the people the CRM
// holds, contacts and leads. Erasure destroys the person's key (infra/privacy/subject_keys.hpp),
// then records contact.erased / lead.erased, which every read model handles by forgetting the
// person; the log keeps every event, unreadable where it was personal, and its hash chain holds.
#include <spdlog/spdlog.h>

#include "api/audit/audit_log.hpp"
#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"
#include "domain/common/erasure.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "infra/privacy/private_event_store.hpp"
#include "projections/records/records_schema.hpp"
#include "projections/timeline/timeline_projection.hpp"
#include "projections/timeline/timeline_query.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;
namespace timeline = projections::timeline;

infra::privacy::subject_key_store& subjects_of(request_scope& scope) {
  auto* subjects = scope.services().subjects;
  if (!subjects) {
    throw problem_error(
        make_problem(problem_kind::unavailable, "this process keeps no keys of data subjects"));
  }
  return *subjects;
}

std::string erasure_reason(const request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"reason"});
  auto reason = o.string("reason");
  // Checked before the key goes: a refused request must change nothing.
  if (auto r = rules::check_erasure_reason(reason)) fail(r->field, r->reason);
  return rules::trimmed(reason);
}

infra::privacy::erasure erasure_by(const request_scope& scope, const std::string& reason) {
  return {scope.services().clock(), scope.caller().user_id, reason};
}

// The key goes first, then the record of it: a failure in between leaves a person whose data is
// gone and whose erasure a retry records (the key's erasure is idempotent), never the reverse.
http_response erase_contact_route(request_scope& scope) {
  const auto reason = erasure_reason(scope);
  const contact_id id{path_id(scope.request())};
  ensure_visible<contact_aggregate>(scope, id.value);
  auto& handler = scope.services().handler;
  const auto loaded = handler.load<contact_aggregate>(id.value);
  if (loaded.state.erased) {
    return command_reply(commands::outcome(invalid_state("erased", "contact was erased already")));
  }
  auto& subjects = subjects_of(scope);
  const auto what = erasure_by(scope, reason);
  // The duplicates merged into the contact were the same person, and hold their data in their
  // own streams.
  for (const auto& duplicate : loaded.state.merged_from) {
    subjects.erase(commands::stream_id_of<contact_aggregate>(duplicate.value), what);
    const auto r = commands::execute(handler, contact_command{erase_contact{duplicate, reason}},
                                     scope.metadata());
    if (!r.ok() && r.error().field != "erased") return command_reply(r);
  }
  subjects.erase(commands::stream_id_of<contact_aggregate>(id.value), what);
  spdlog::info("data subject erased: contact {} by {} (request {})", id.value,
               scope.caller().user_id, scope.request().request_id);
  return command_reply(
      commands::execute(handler, contact_command{erase_contact{id, reason}}, scope.metadata()));
}

http_response erase_lead_route(request_scope& scope) {
  const auto reason = erasure_reason(scope);
  const lead_id id{path_id(scope.request())};
  ensure_visible<lead_aggregate>(scope, id.value);
  auto& handler = scope.services().handler;
  if (handler.load<lead_aggregate>(id.value).state.erased) {
    return command_reply(commands::outcome(invalid_state("erased", "lead was erased already")));
  }
  subjects_of(scope).erase(commands::stream_id_of<lead_aggregate>(id.value),
                           erasure_by(scope, reason));
  spdlog::info("data subject erased: lead {} by {} (request {})", id.value, scope.caller().user_id,
               scope.request().request_id);
  return command_reply(
      commands::execute(handler, lead_command{erase_lead{id, reason}}, scope.metadata()));
}

void write_events(json_out& out, const std::vector<infra::recorded_event>& events) {
  out.begin_array();
  for (const auto& e : events) {
    std::string actor;
    try {
      actor = infra::decode_metadata(e.metadata).actor;
    } catch (const std::exception&) {
      // An event without readable metadata is still the person's: it goes out without an actor.
    }
    out.begin_object();
    out.key("position").integer(e.global_position);
    out.key("version").integer(e.stream_version);
    out.key("type").string(e.type);
    out.key("recorded_at").time(e.recorded_at);
    out.key("actor_id");
    if (actor.empty()) {
      out.null();
    } else {
      out.string(actor);
    }
    out.key("data").raw(e.data);
    out.end_object();
  }
  out.end_array();
}

// The activities and tasks about the person, as their timeline holds them (every team's: the
// person's right of access covers all of it).
void write_items(json_out& out, request_scope& scope, std::string_view kind,
                 const std::string& id) {
  out.begin_array();
  if (auto* db = scope.services().read_db) {
    auto session = db->acquire();
    timeline::timeline_request request;
    request.entity_kind = std::string(kind);
    request.entity_id = id;
    request.limit = timeline::kMaxEntries;
    for (;;) {
      const auto page = timeline::read_timeline(*session, request);
      for (const auto& e : page.entries) {
        if (e.entry == "event") continue;
        out.begin_object();
        out.key("entry").string(e.entry);
        out.key("type").string(e.type);
        out.key("at").time(e.at);
        out.key("item_id").optional_string(e.item_id);
        out.key("owner_id").optional_string(e.owner_id);
        out.key("summary").optional_string(e.summary);
        out.key("body").optional_string(e.body);
        out.key("status").optional_string(e.status);
        out.end_object();
      }
      if (!page.next_cursor) break;
      request.after = timeline::decode_timeline_cursor(*page.next_cursor);
      if (!request.after) break;
    }
  }
  out.end_array();
}

template <class Aggregate>
http_response export_subject(request_scope& scope, std::string_view kind) {
  const auto id = path_id(scope.request());
  // The activities and tasks come from the timeline: min_position waits for it as for the record.
  await_read_models(scope, {std::string(projections::records::kProjectionName),
                            std::string(timeline::kProjectionName)});
  ensure_visible<Aggregate>(scope, id);
  auto& handler = scope.services().handler;
  const auto stream = commands::stream_id_of<Aggregate>(id);
  const auto loaded = handler.load<Aggregate>(id);
  const auto events = handler.store().read_stream(stream);
  std::optional<infra::privacy::erasure> erased;
  if (auto* subjects = scope.services().subjects) erased = subjects->erased(stream);

  json_out out;
  out.begin_object();
  out.key("subject").string(stream);
  out.key("kind").string(kind);
  out.key("id").string(id);
  out.key("exported_at").time(scope.services().clock());
  out.key("record").raw(infra::to_json(loaded.state));
  out.key("erasure");
  if (erased) {
    out.begin_object();
    out.key("at").time(erased->at);
    out.key("by").string(erased->by);
    out.key("reason").string(erased->reason);
    out.end_object();
  } else {
    out.null();
  }
  out.key("events");
  write_events(out, events);
  out.key("activities_and_tasks");
  write_items(out, scope, kind, id);
  out.end_object();

  const auto& request = scope.request();
  audit::log_audit_read({.route = request.route_name,
                         .user_id = scope.caller().user_id,
                         .role = to_string(scope.caller().role),
                         .request_id = request.request_id,
                         .remote = request.remote_address,
                         .target = stream,
                         .query = &request.query,
                         .items = events.size()});
  auto response = http_response::json(200, out.take());
  response.headers["Content-Disposition"] = "attachment; filename=\"" + stream + ".json\"";
  return response;
}

}  // namespace

void add_privacy_routes(router& routes, crm_services& services) {
  add_route(routes, services, "POST", "/api/contacts/{id}/erase", "contacts.erase",
            perm::contact_delete,
            "Erase a contact's personal data for good (GDPR art. 17), and of the duplicates merged "
            "into it",
            erase_contact_route);
  add_route(routes, services, "POST", "/api/leads/{id}/erase", "leads.erase", perm::contact_delete,
            "Erase a lead's personal data for good (GDPR art. 17)", erase_lead_route);
  add_route(
      routes, services, "GET", "/api/contacts/{id}/export", "contacts.export", perm::contact_view,
      "Everything held about a contact: the record, every event, activities and tasks "
      "(GDPR art. 15)",
      [](request_scope& scope) { return export_subject<contact_aggregate>(scope, "contact"); });
  add_route(routes, services, "GET", "/api/leads/{id}/export", "leads.export", perm::lead_view,
            "Everything held about a lead: the record, every event, activities and tasks (GDPR "
            "art. 15)",
            [](request_scope& scope) { return export_subject<lead_aggregate>(scope, "lead"); });
}

}  // namespace realmkit::api::crm

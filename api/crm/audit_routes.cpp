// /api/audit/…: the event history for auditors (permission audit:view), read from the event store
// alone — a stream's events, the global feed, an entity's state as of a version or a time and its
// field-by-field changes, everything one request caused — and the board and forecast as they
// stood at a past time (docs/audit.md). Every read is logged on the audit logger.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <memory>

#include "api/audit/audit_log.hpp"
#include "api/audit/entity_history.hpp"
#include "api/audit/log_reader.hpp"
#include "api/audit/past_read_model.hpp"
#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "infra/audit/chain_verify.hpp"
#include "infra/event_envelope.hpp"
#include "projections/analytics/analytics_projection.hpp"
#include "projections/analytics/analytics_queries.hpp"
#include "projections/board/board_projection.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::api::crm {
namespace {

namespace audit = api::audit;
using infra::recorded_event;

constexpr std::size_t kDefaultItems = 100;
constexpr std::size_t kMaxItems = 1'000;
// Events one page of a filtered feed reads at most (audit::feed_request::max_scanned).
constexpr std::size_t kMaxScanned = 100'000;

// What a handler tells the audit log about its read.
struct read_note {
  std::string target;
  std::size_t items = 0;
};

using audit_handler = std::function<http_response(request_scope&, read_note&)>;

void add_audit_route(router& routes, crm_services& services, std::string pattern, std::string name,
                     std::string summary, std::string_view schema, audit_handler handle) {
  route r;
  r.method = "GET";
  r.pattern = std::move(pattern);
  r.name = std::move(name);
  r.permission = std::string(auth::to_string(auth::permission::audit_view));
  r.summary = std::move(summary);
  r.blocking = true;  // store reads: the worker pool
  r.response_schema = std::string(schema);
  r.handle = [&services, handle = std::move(handle)](const http_request& request) {
    request_scope scope(services, request);
    if (!auth::has_permission(scope.caller().role, auth::permission::audit_view)) {
      forbid("the role " + std::string(to_string(scope.caller().role)) + " lacks audit:view");
    }
    read_note note;
    auto response = handle(scope, note);
    audit::log_audit_read({.route = request.route_name,
                           .user_id = scope.caller().user_id,
                           .role = to_string(scope.caller().role),
                           .request_id = request.request_id,
                           .remote = request.remote_address,
                           .target = note.target,
                           .query = &request.query,
                           .items = note.items});
    return response;
  };
  routes.add(std::move(r));
}

infra::event_store& store_of(request_scope& scope) {
  return scope.services().handler.store();
}

std::int64_t positive(const query_reader& q, std::string_view name) {
  const auto text = q.text(name);
  const auto n = text ? projections::support::parse_int(*text) : std::nullopt;
  if (!n || *n < 1) fail(std::string(name), "must be a positive integer");
  return *n;
}

// A point in the past: RFC 3339, not after the server's clock (the future has no history yet).
std::optional<domain::timestamp> past_time(request_scope& scope, const query_reader& q,
                                           std::string_view name) {
  const auto t = q.time(name);
  if (t && *t > scope.services().clock()) {
    fail(std::string(name), "is in the future: history ends now");
  }
  return t;
}

domain::timestamp required_past_time(request_scope& scope, const query_reader& q,
                                     std::string_view name) {
  const auto t = past_time(scope, q, name);
  if (!t) fail(std::string(name), "is required (an RFC 3339 date-time)");
  return *t;
}

std::optional<std::string> nonempty(const query_reader& q, std::string_view name) {
  auto value = q.text(name);
  if (value && (value->empty() || value->size() > 255)) {
    fail(std::string(name), "must be 1 to 255 characters");
  }
  return value;
}

[[noreturn]] void unknown_stream() {
  throw problem_error(
      make_problem(problem_kind::not_found, "no event is stored in this stream", "stream_id"));
}

std::string stream_of(request_scope& scope, std::int64_t& version) {
  std::string stream(scope.request().path_param("stream_id"));
  version = store_of(scope).stream_version(stream);
  if (version == 0) unknown_stream();
  return stream;
}

// The envelope as stored (docs/events.md), except that a password hash shows as redacted: an
// auditor sees that and when a password changed, never the hash.
void write_event(json_out& out, const recorded_event& e) {
  if (!e.type.starts_with("user.password_changed.")) {
    out.raw(infra::encode_envelope(e));
    return;
  }
  rapidjson::Document data;
  data.Parse(e.data.data(), e.data.size());
  if (data.IsObject() && data.HasMember("password_hash")) {
    data["password_hash"].SetString("[redacted]", data.GetAllocator());
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  data.Accept(writer);
  auto shown = e;
  shown.data.assign(buffer.GetString(), buffer.GetSize());
  out.raw(infra::encode_envelope(shown));
}

// ---- a stream's events ----

constexpr const char* kEventSchema =
    R"({"type":"object","required":["event_id","stream_id","stream_version","global_position",)"
    R"("type","schema_version","recorded_at","data","metadata"],"properties":{)"
    R"("event_id":{"type":"string"},"stream_id":{"type":"string"},)"
    R"("stream_version":{"type":"integer"},"global_position":{"type":"integer"},)"
    R"("type":{"type":"string"},"schema_version":{"type":"integer"},)"
    R"("recorded_at":{"type":"string","format":"date-time"},"data":{"type":"object"},)"
    R"("metadata":{"type":"object","properties":{"actor":{"type":["string","null"]},)"
    R"("correlation_id":{"type":["string","null"]},"causation_id":{"type":["string","null"]},)"
    R"("idempotency_key":{"type":["string","null"]},"ip":{"type":["string","null"]}}}}})";

http_response stream_events(request_scope& scope, read_note& note) {
  const query_reader q(scope.request(), {"from_version", "cursor", "limit"});
  std::int64_t version = 0;
  const auto stream = stream_of(scope, version);
  note.target = stream;
  const auto limit = q.limit(kDefaultItems, kMaxItems);
  std::int64_t from = q.text("from_version") ? positive(q, "from_version") : 1;
  if (const auto cursor = q.text("cursor")) {
    const auto fields = projections::support::decode_cursor("se1", *cursor, 2);
    const auto after = fields ? projections::support::parse_int((*fields)[1]) : std::nullopt;
    if (!after || (*fields)[0] != stream) fail("cursor", "is not a cursor of this stream's events");
    from = *after + 1;
  }
  auto events = store_of(scope).read_stream(stream, from, limit + 1);
  std::optional<std::string> next;
  if (events.size() > limit) {
    events.resize(limit);
    next = projections::support::encode_cursor(
        "se1", {stream, std::to_string(events.back().stream_version)});
  }
  note.items = events.size();
  json_out out;
  out.begin_object();
  out.key("stream_id").string(stream);
  out.key("kind").optional_string(audit::entity_kind(stream));
  out.key("version").integer(version);
  out.key("items").begin_array();
  for (const auto& e : events) write_event(out, e);
  out.end_array();
  out.key("next_cursor").optional_string(next);
  out.end_object();
  return http_response::json(200, out.take());
}

// ---- the global feed, and what one request caused ----

http_response feed(request_scope& scope, read_note& note, audit::feed_filter filter,
                   const query_reader& q) {
  auto& store = store_of(scope);
  const auto limit = q.limit(kDefaultItems, kMaxItems);
  const auto from = q.time("from");
  const auto to = q.time("to");
  if (from && to && *from > *to) fail("from", "is after `to`");
  std::int64_t after = 0;
  std::int64_t upto = 0;
  if (const auto cursor = q.text("cursor")) {
    // The cursor keeps the page's end, so later pages do not move with the head.
    const auto fields = projections::support::decode_cursor("af1", *cursor, 2);
    const auto a = fields ? projections::support::parse_int((*fields)[0]) : std::nullopt;
    const auto u = fields ? projections::support::parse_int((*fields)[1]) : std::nullopt;
    if (!a || !u || *a < 0 || *u < *a) fail("cursor", "is not a cursor of the audit feed");
    after = *a;
    upto = *u;
  } else {
    after = from ? audit::position_at(store, *from - std::chrono::microseconds(1)) : 0;
    upto = to ? audit::position_at(store, *to) : store.head_position();
  }
  const auto page = audit::read_feed(store, {.after = after,
                                             .upto = upto,
                                             .filter = std::move(filter),
                                             .limit = limit,
                                             .max_scanned = kMaxScanned});
  note.items = page.items.size();
  json_out out;
  out.begin_object();
  out.key("items").begin_array();
  for (const auto& e : page.items) write_event(out, e);
  out.end_array();
  std::optional<std::string> next;
  if (!page.complete) {
    next = projections::support::encode_cursor(
        "af1", {std::to_string(page.scanned_to), std::to_string(upto)});
  }
  out.key("next_cursor").optional_string(next);
  out.key("scanned_to").integer(page.scanned_to);
  out.key("upto").integer(upto);
  out.end_object();
  return http_response::json(200, out.take());
}

http_response global_feed(request_scope& scope, read_note& note) {
  const query_reader q(scope.request(), {"type", "actor", "stream_prefix", "correlation_id",
                                         "causation_id", "from", "to", "cursor", "limit"});
  audit::feed_filter filter;
  filter.type = nonempty(q, "type");
  filter.actor = nonempty(q, "actor");
  filter.stream_prefix = nonempty(q, "stream_prefix");
  filter.correlation_id = nonempty(q, "correlation_id");
  filter.causation_id = nonempty(q, "causation_id");
  return feed(scope, note, std::move(filter), q);
}

http_response correlation_events(request_scope& scope, read_note& note) {
  const query_reader q(scope.request(), {"from", "to", "cursor", "limit"});
  audit::feed_filter filter;
  filter.correlation_id = std::string(scope.request().path_param("correlation_id"));
  note.target = *filter.correlation_id;
  return feed(scope, note, std::move(filter), q);
}

// ---- an entity: its state at a version or a time, and its changes ----

std::string entity_stream(request_scope& scope, std::int64_t& version) {
  auto stream = stream_of(scope, version);
  if (!audit::entity_kind(stream)) {
    fail("stream_id", "is not the stream of an entity (its events are at /events)");
  }
  return stream;
}

http_response stream_state(request_scope& scope, read_note& note) {
  const query_reader q(scope.request(), {"as_of", "version"});
  std::int64_t current = 0;
  const auto stream = entity_stream(scope, current);
  note.target = stream;
  audit::replay_bound bound;
  bound.as_of = past_time(scope, q, "as_of");
  if (q.text("version")) {
    if (bound.as_of) fail("version", "give as_of or version, not both");
    bound.version = positive(q, "version");
    if (*bound.version > current) {
      fail("version", "the stream has " + std::to_string(current) + " events");
    }
  }
  const auto snap = audit::replay_entity(store_of(scope), stream, bound);
  note.items = static_cast<std::size_t>(snap->version);
  json_out out;
  out.begin_object();
  out.key("stream_id").string(snap->stream_id);
  out.key("kind").string(snap->kind);
  out.key("version").integer(snap->version);
  out.key("position").integer(snap->position);
  if (snap->recorded_at) {
    out.key("recorded_at").time(*snap->recorded_at);
  } else {
    out.key("recorded_at").null();
  }
  if (bound.as_of) {
    out.key("as_of").time(*bound.as_of);
  } else {
    out.key("as_of").null();
  }
  out.key("stream_version").integer(snap->stream_version);
  out.key("exists").boolean(snap->exists);
  out.key("state").raw(snap->state);
  out.end_object();
  return http_response::json(200, out.take());
}

http_response stream_changes(request_scope& scope, read_note& note) {
  const query_reader q(scope.request(), {"cursor", "limit"});
  std::int64_t current = 0;
  const auto stream = entity_stream(scope, current);
  note.target = stream;
  const auto limit = q.limit(kDefaultItems, kMaxItems);
  std::int64_t after = 0;
  if (const auto cursor = q.text("cursor")) {
    const auto fields = projections::support::decode_cursor("sc1", *cursor, 2);
    const auto v = fields ? projections::support::parse_int((*fields)[1]) : std::nullopt;
    if (!v || (*fields)[0] != stream) fail("cursor", "is not a cursor of this stream's changes");
    after = *v;
  }
  auto entries = *audit::entity_changes(store_of(scope), stream, after, limit + 1);
  std::optional<std::string> next;
  if (entries.size() > limit) {
    entries.resize(limit);
    next = projections::support::encode_cursor(
        "sc1", {stream, std::to_string(entries.back().event.stream_version)});
  }
  note.items = entries.size();
  json_out out;
  out.begin_object();
  out.key("stream_id").string(stream);
  out.key("kind").optional_string(audit::entity_kind(stream));
  out.key("items").begin_array();
  for (const auto& entry : entries) {
    const auto& e = entry.event;
    const auto meta = infra::decode_metadata(e.metadata);
    auto text = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional(s); };
    out.begin_object();
    out.key("version").integer(e.stream_version);
    out.key("position").integer(e.global_position);
    out.key("type").string(e.type);
    out.key("recorded_at").time(e.recorded_at);
    out.key("actor").optional_string(text(meta.actor));
    out.key("correlation_id").optional_string(text(meta.correlation_id));
    out.key("causation_id").optional_string(text(meta.causation_id));
    out.key("changes").begin_array();
    for (const auto& c : entry.changes) {
      out.begin_object();
      out.key("field").string(c.field);
      out.key("from").raw(c.from);
      out.key("to").raw(c.to);
      out.end_object();
    }
    out.end_array();
    out.end_object();
  }
  out.end_array();
  out.key("next_cursor").optional_string(next);
  out.end_object();
  return http_response::json(200, out.take());
}

// ---- read models as they stood ----

http_response board_as_of(request_scope& scope, read_note& note) {
  const query_reader q(scope.request(), {"as_of", "owner", "team", "stage", "cursor", "limit"});
  const auto as_of = required_past_time(scope, q, "as_of");
  note.target = path_id(scope.request());
  auto& store = store_of(scope);
  audit::past_read_model past(store, {std::make_shared<projections::board::board_projection>()});
  past.advance_to(audit::position_at(store, as_of));
  return answer_board(scope, past.session(), q, as_of);
}

struct board_card {
  std::string title;
  std::string stage_id;
  domain::money value;
};

// Every card on the pipeline's board that the caller may see, by deal id; and how each deal
// that is not on it stands (won, lost, archived, or in another pipeline).
struct board_cards {
  std::map<std::string, board_card> on;
  std::map<std::string, std::string> off;  // deal id → why
};

board_cards cards_of(infra::sql::session& db, const std::string& pipeline,
                     const std::optional<std::optional<std::string>>& only_team) {
  board_cards out;
  for (const auto& r :
       db.query("SELECT d.deal_id, d.title, d.stage_id, d.amount_minor, d.currency, d.on_board, "
                "d.status, d.archived, d.pipeline_id, d.owner_team FROM rm_board_deals d",
                {})) {
    if (only_team && (!*only_team || r.optional_text(9) != **only_team)) continue;
    const auto id = r.text(0);
    if (r.text(8) != pipeline) {
      out.off[id] = "other_pipeline";
    } else if (r.integer(5) != 0) {
      out.on[id] = {r.text(1), r.text(2), {r.integer(3), r.text(4)}};
    } else {
      out.off[id] = r.integer(7) != 0 ? "archived" : r.text(6);
    }
  }
  return out;
}

http_response board_changes(request_scope& scope, read_note& note) {
  const query_reader q(scope.request(), {"from", "to"});
  const auto from = required_past_time(scope, q, "from");
  const auto to = required_past_time(scope, q, "to");
  if (from > to) fail("from", "is after `to`");
  const auto pipeline = path_id(scope.request());
  note.target = pipeline;
  auto& store = store_of(scope);
  audit::past_read_model past(store, {std::make_shared<projections::board::board_projection>()});
  const auto from_position = audit::position_at(store, from);
  const auto to_position = audit::position_at(store, to);
  past.advance_to(from_position);
  const auto before = cards_of(past.session(), pipeline, scope.only_team());
  past.advance_to(to_position);
  const infra::sql::value id[] = {pipeline};
  if (past.session().query("SELECT 1 FROM rm_board_pipelines WHERE pipeline_id = $1", id).empty()) {
    not_found("pipeline does not exist");
  }
  const auto after = cards_of(past.session(), pipeline, scope.only_team());

  json_out out;
  out.begin_object();
  out.key("pipeline_id").string(pipeline);
  out.key("from").begin_object();
  out.key("at").time(from);
  out.key("position").integer(from_position);
  out.end_object();
  out.key("to").begin_object();
  out.key("at").time(to);
  out.key("position").integer(to_position);
  out.end_object();
  auto card = [&](const std::string& deal, const board_card& c) {
    out.key("id").string(deal);
    out.key("title").string(c.title);
    out.key("stage_id").string(c.stage_id);
    out.key("value").money(c.value);
  };
  std::size_t items = 0;
  out.key("entered").begin_array();
  for (const auto& [deal, c] : after.on) {
    if (before.on.contains(deal)) continue;
    out.begin_object();
    card(deal, c);
    out.end_object();
    ++items;
  }
  out.end_array();
  out.key("left").begin_array();
  for (const auto& [deal, c] : before.on) {
    if (after.on.contains(deal)) continue;
    out.begin_object();
    card(deal, c);
    const auto why = after.off.find(deal);
    out.key("reason").string(why == after.off.end() ? "gone" : why->second);
    out.end_object();
    ++items;
  }
  out.end_array();
  out.key("moved").begin_array();
  for (const auto& [deal, c] : after.on) {
    const auto was = before.on.find(deal);
    if (was == before.on.end() || was->second.stage_id == c.stage_id) continue;
    out.begin_object();
    out.key("id").string(deal);
    out.key("title").string(c.title);
    out.key("from_stage_id").string(was->second.stage_id);
    out.key("to_stage_id").string(c.stage_id);
    out.end_object();
    ++items;
  }
  out.end_array();
  out.key("value_changed").begin_array();
  for (const auto& [deal, c] : after.on) {
    const auto was = before.on.find(deal);
    if (was == before.on.end() || was->second.value == c.value) continue;
    out.begin_object();
    out.key("id").string(deal);
    out.key("title").string(c.title);
    out.key("from").money(was->second.value);
    out.key("to").money(c.value);
    out.end_object();
    ++items;
  }
  out.end_array();
  out.end_object();
  note.items = items;
  return http_response::json(200, out.take());
}

http_response forecast_as_of(request_scope& scope, read_note& note) {
  namespace an = projections::analytics;
  const query_reader q(scope.request(), {"as_of", "pipeline", "owner", "team", "from", "to"});
  const auto as_of = required_past_time(scope, q, "as_of");
  an::filters filters;
  filters.pipeline = q.id("pipeline");
  filters.owner = q.id("owner");
  filters.team = q.id("team");
  for (const auto* name : {"from", "to"}) {
    const auto day = q.text(name);
    if (day && !infra::parse_date(*day)) fail(name, "must be a date, YYYY-MM-DD");
    (std::string_view(name) == "from" ? filters.from : filters.to) = day;
  }
  bool none_visible = false;
  if (const auto only = scope.only_team()) {
    if (!*only || (filters.team && *filters.team != **only)) {
      none_visible = true;
    } else {
      filters.team = **only;
    }
  }
  note.target = filters.pipeline.value_or("");
  auto& store = store_of(scope);
  audit::past_read_model past(store, {an::make_analytics_projection()});
  const auto position = audit::position_at(store, as_of);
  past.advance_to(position);
  json_out out;
  out.begin_object();
  out.key("as_of").time(as_of);
  out.key("position").integer(position);
  out.key("items").begin_array();
  if (!none_visible) {
    for (const auto& r : an::forecast(past.session(), filters).rows) {
      out.begin_object();
      out.key("month").string(r.month);
      out.key("currency").string(r.currency);
      out.key("deals").integer(r.deals);
      out.key("value_minor").integer(r.value_minor);
      out.key("weighted_minor").integer(r.weighted_minor);
      out.end_object();
      ++note.items;
    }
  }
  out.end_array();
  out.end_object();
  return http_response::json(200, out.take());
}

std::string page_of_events_schema() {
  return std::string(R"({"type":"object","required":["items","next_cursor"],"properties":{)"
                     R"("items":{"type":"array","items":)") +
         kEventSchema +
         R"(},"next_cursor":{"type":["string","null"]},"scanned_to":{"type":"integer"},)"
         R"("upto":{"type":"integer"},"stream_id":{"type":"string"},)"
         R"("kind":{"type":["string","null"]},"version":{"type":"integer"}}})";
}

constexpr const char* kStateSchema =
    R"({"type":"object","required":["stream_id","kind","version","position","exists","state"],)"
    R"("properties":{"stream_id":{"type":"string"},"kind":{"type":"string"},)"
    R"("version":{"type":"integer"},"position":{"type":"integer"},)"
    R"("recorded_at":{"type":["string","null"],"format":"date-time"},)"
    R"("as_of":{"type":["string","null"],"format":"date-time"},)"
    R"("stream_version":{"type":"integer"},"exists":{"type":"boolean"},)"
    R"("state":{"type":"object"}}})";

constexpr const char* kChangesSchema =
    R"({"type":"object","required":["stream_id","items","next_cursor"],"properties":{)"
    R"("stream_id":{"type":"string"},"items":{"type":"array","items":{"type":"object",)"
    R"("required":["version","position","type","recorded_at","changes"],"properties":{)"
    R"("version":{"type":"integer"},"position":{"type":"integer"},"type":{"type":"string"},)"
    R"("recorded_at":{"type":"string","format":"date-time"},)"
    R"("actor":{"type":["string","null"]},"correlation_id":{"type":["string","null"]},)"
    R"("causation_id":{"type":["string","null"]},"changes":{"type":"array","items":{)"
    R"("type":"object","required":["field","from","to"],"properties":{)"
    R"("field":{"type":"string"},"from":{},"to":{}}}}}}},)"
    R"("next_cursor":{"type":["string","null"]}}})";

constexpr const char* kBoardChangesSchema =
    R"({"type":"object","required":["pipeline_id","from","to","entered","left","moved",)"
    R"("value_changed"],"properties":{"pipeline_id":{"type":"string"},)"
    R"("from":{"type":"object"},"to":{"type":"object"},)"
    R"("entered":{"type":"array","items":{"type":"object"}},)"
    R"("left":{"type":"array","items":{"type":"object"}},)"
    R"("moved":{"type":"array","items":{"type":"object"}},)"
    R"("value_changed":{"type":"array","items":{"type":"object"}}}})";

constexpr const char* kForecastSchema =
    R"({"type":"object","required":["as_of","position","items"],"properties":{)"
    R"("as_of":{"type":"string","format":"date-time"},"position":{"type":"integer"},)"
    R"("items":{"type":"array","items":{"type":"object","properties":{)"
    R"("month":{"type":"string"},"currency":{"type":"string"},"deals":{"type":"integer"},)"
    R"("value_minor":{"type":"integer"},"weighted_minor":{"type":"integer"}}}}}})";

}  // namespace

// ---- the hash chain (docs/event-store.md) ----

constexpr const char* kVerifySchema =
    R"({"type":"object","required":["verified","head","checked","verified_through","hash",)"
    R"("first_broken"],"properties":{"verified":{"type":"boolean"},"head":{"type":"integer"},)"
    R"("checked":{"type":"integer"},"verified_through":{"type":"integer"},)"
    R"("hash":{"type":"string"},"first_broken":{"type":["object","null"],)"
    R"("properties":{"position":{"type":"integer"},"reason":{"type":"string"}}}}})";

// Recomputes every link from position 1 (up_to, default the head now) and names the first broken
// one. A million events take seconds: it runs on the worker pool like every store read.
http_response verify_log(request_scope& scope, read_note& note) {
  const query_reader q(scope.request(), {"up_to"});
  // The links cover the bytes as stored, not as the API shows them.
  auto* stored = scope.services().stored_log;
  auto& store = stored ? *stored : store_of(scope);
  infra::audit::verify_options options;
  if (q.text("up_to")) {
    options.up_to = positive(q, "up_to");
    const auto head = store.head_position();
    if (options.up_to > head) {
      fail("up_to", "is beyond the log's head position " + std::to_string(head));
    }
  }
  const auto report = infra::audit::verify_chain(store, options);
  note.target = "hash chain";
  note.items = static_cast<std::size_t>(report.checked);
  json_out out;
  out.begin_object();
  out.key("verified").boolean(report.ok());
  out.key("head").integer(report.head);
  out.key("checked").integer(report.checked);
  out.key("verified_through").integer(report.verified_through);
  out.key("hash").string(infra::audit::to_hex(report.last_hash));
  out.key("first_broken");
  if (report.first_break) {
    out.begin_object();
    out.key("position").integer(report.first_break->position);
    out.key("reason").string(report.first_break->reason);
    out.end_object();
  } else {
    out.null();
  }
  out.end_object();
  return http_response::json(200, out.take());
}

void add_audit_routes(router& routes, crm_services& services) {
  const auto events_schema = page_of_events_schema();
  add_audit_route(routes, services, "/api/audit/streams/{stream_id}/events", "audit.stream_events",
                  "A stream's events with their metadata, in stream order (from_version, "
                  "cursor, limit)",
                  events_schema, stream_events);
  add_audit_route(routes, services, "/api/audit/streams/{stream_id}/state", "audit.stream_state",
                  "An entity's state replayed from its events, as of a time (as_of) or a "
                  "version (version)",
                  kStateSchema, stream_state);
  add_audit_route(routes, services, "/api/audit/streams/{stream_id}/changes",
                  "audit.stream_changes",
                  "What each event of an entity changed, field by field, with who and when "
                  "(cursor, limit)",
                  kChangesSchema, stream_changes);
  add_audit_route(routes, services, "/api/audit/events", "audit.feed",
                  "The global event log in order (filters: type, actor, stream_prefix, "
                  "correlation_id, causation_id, from, to; paging: cursor, limit)",
                  events_schema, global_feed);
  add_audit_route(routes, services, "/api/audit/correlations/{correlation_id}/events",
                  "audit.correlation_events",
                  "Every event one request or workflow caused (from, to, cursor, limit)",
                  events_schema, correlation_events);
  add_audit_route(routes, services, "/api/audit/pipelines/{id}/board", "audit.board_as_of",
                  "The pipeline board as it stood at as_of, in the live board's shape (owner, "
                  "team, stage, cursor, limit)",
                  board_schema(), board_as_of);
  add_audit_route(routes, services, "/api/audit/pipelines/{id}/board/changes",
                  "audit.board_changes",
                  "How a pipeline board changed between two times: deals that entered, left, "
                  "moved stage or changed value (from, to)",
                  kBoardChangesSchema, board_changes);
  add_audit_route(routes, services, "/api/audit/verify", "audit.verify",
                  "Recompute the log's hash chain from position 1 through up_to (default: the "
                  "head) and name the first broken link",
                  kVerifySchema, verify_log);
  add_audit_route(routes, services, "/api/audit/forecast", "audit.forecast_as_of",
                  "The weighted forecast per close month as it stood at as_of (pipeline, owner, "
                  "team, from, to)",
                  kForecastSchema, forecast_as_of);
}

}  // namespace realmkit::api::crm

// Outgoing webhooks, managed by admins (admin:access): subscriptions to kinds of events with a
// signing secret shown only at creation and rotation, their deliveries with every attempt, a
// redelivery of one, and a replay from a position in the log (docs/webhooks.md). A target on a
// private or loopback address is refused here, and again at every delivery, unless the operator
// allows it.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "api/crm/read_model_support.hpp"
#include "api/crm/route_groups.hpp"
#include "infra/ids.hpp"
#include "infra/webhooks/webhook_events.hpp"
#include "infra/webhooks/webhook_signature.hpp"
#include "infra/webhooks/webhook_store.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::api::crm {
namespace {

namespace wh = infra::webhooks;
using perm = auth::permission;

constexpr std::size_t kMaxPatterns = 100;
constexpr std::size_t kMaxDescription = 500;
constexpr std::size_t kDefaultPage = 50;
constexpr std::size_t kMaxPage = 200;
// A rotated secret may go on signing for at most a week, while receivers move to the new one.
constexpr std::int64_t kMaxOverlapSeconds = 7 * 24 * 3600;
constexpr std::string_view kSubscriptionCursor = "whs1";
constexpr std::string_view kDeliveryCursor = "whd1";

// ---- schemas (OpenAPI) ----

const std::string kSubscriptionProperties =
    R"("id":{"type":"string"},"url":{"type":"string","format":"uri"},)"
    R"("description":{"type":"string"},"event_types":{"type":"array","items":{"type":"string"}},)"
    R"("active":{"type":"boolean"},"position":{"type":"integer"},)"
    R"("created_by":{"type":"string"},"created_at":{"type":"string","format":"date-time"},)"
    R"("updated_at":{"type":"string","format":"date-time"},)"
    R"("previous_secret_expires_at":{"type":["string","null"],"format":"date-time"})";
const std::string kSubscriptionSchema =
    R"({"type":"object","required":["id","url","event_types","active"],"properties":{)" +
    kSubscriptionProperties + "}}";
const std::string kWithSecretSchema =
    R"({"type":"object","required":["id","url","event_types","active","secret"],"properties":{)" +
    kSubscriptionProperties + R"(,"secret":{"type":"string","pattern":"^whsec_"}}})";
const std::string kDeliveryProperties =
    R"("id":{"type":"string"},"subscription_id":{"type":"string"},"event_id":{"type":"string"},)"
    R"("event_type":{"type":"string"},"event_position":{"type":"integer"},)"
    R"("reason":{"type":"string","enum":["event","replay","redelivery"]},)"
    R"("redelivery_of":{"type":["string","null"]},)"
    R"("status":{"type":"string","enum":["pending","delivered","failed"]},)"
    R"("attempt_count":{"type":"integer"},)"
    R"("next_attempt_at":{"type":["string","null"],"format":"date-time"},)"
    R"("created_at":{"type":"string","format":"date-time"},)"
    R"("completed_at":{"type":["string","null"],"format":"date-time"},)"
    R"("last_status_code":{"type":["integer","null"]},"last_error":{"type":["string","null"]})";
const std::string kDeliverySchema =
    R"({"type":"object","required":["id","status"],"properties":{)" + kDeliveryProperties +
    R"(,"attempts":{"type":"array","items":{"type":"object","properties":{)"
    R"("attempt":{"type":"integer"},"at":{"type":"string","format":"date-time"},)"
    R"("duration_ms":{"type":"number"},"status_code":{"type":["integer","null"]},)"
    R"("error":{"type":["string","null"]},)"
    R"("outcome":{"type":"string","enum":["delivered","retry","failed"]}}}}}})";
const std::string kSubscriptionBody =
    R"({"type":"object","properties":{"url":{"type":"string","format":"uri"},)"
    R"("event_types":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":100},)"
    R"("description":{"type":"string","maxLength":500},"active":{"type":"boolean"}}})";
const std::string kCreateBody =
    R"({"type":"object","required":["url","event_types"],"properties":{)"
    R"("url":{"type":"string","format":"uri"},)"
    R"("event_types":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":100},)"
    R"("description":{"type":"string","maxLength":500},"active":{"type":"boolean"}}})";
const std::string kRotateBody =
    R"({"type":"object","properties":{"keep_previous_for_seconds":{"type":"integer",)"
    R"("minimum":0,"maximum":604800}}})";
const std::string kReplayBody = R"({"type":"object","required":["from_position"],"properties":{)"
                                R"("from_position":{"type":"integer","minimum":0}}})";
const std::string kReplaySchema =
    R"({"type":"object","required":["id","from_position","position","head"],"properties":{)"
    R"("id":{"type":"string"},"from_position":{"type":"integer"},"position":{"type":"integer"},)"
    R"("head":{"type":"integer"}}})";
const std::string kDeletedSchema =
    R"({"type":"object","required":["id","deleted"],"properties":{"id":{"type":"string"},)"
    R"("deleted":{"type":"boolean"}}})";
const std::string kKindsSchema =
    R"({"type":"object","required":["items"],"properties":{"items":{"type":"array",)"
    R"("items":{"type":"string"}}}})";

// ---- plumbing ----

wh::webhook_store& store_of(const request_scope& scope) {
  auto* store = scope.services().webhooks;
  if (!store) {
    throw problem_error(
        make_problem(problem_kind::unavailable, "this process keeps no webhook subscriptions"));
  }
  return *store;
}

using webhook_handler = std::function<http_response(request_scope&, wh::webhook_store&)>;

void add_webhook_route(router& routes, crm_services& services, std::string method,
                       std::string pattern, std::string name, std::string summary,
                       std::string request_schema, std::string response_schema,
                       webhook_handler handle) {
  route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.name = std::move(name);
  r.permission = std::string(auth::to_string(perm::admin_access));
  r.summary = std::move(summary);
  r.blocking = true;  // database work, and resolving a target's host: the worker pool
  r.request_schema = std::move(request_schema);
  r.response_schema = std::move(response_schema);
  if (r.method == "POST" && r.pattern == "/api/webhooks") r.success_status = 201;
  r.handle = [&services, handle = std::move(handle)](const http_request& request) {
    request_scope scope(services, request);
    // The guard checks the permission too; checking here keeps the routes safe behind any guard.
    if (!auth::has_permission(scope.caller().role, perm::admin_access)) {
      forbid("the role " + std::string(to_string(scope.caller().role)) + " lacks admin:access");
    }
    return handle(scope, store_of(scope));
  };
  routes.add(std::move(r));
}

std::int64_t head_of(const request_scope& scope) {
  return scope.services().handler.store().head_position();
}

wh::subscription subscription_or_404(wh::webhook_store& store, const http_request& request) {
  auto s = store.find(request.path_param("id"));
  if (!s) not_found("no webhook subscription has this id");
  return std::move(*s);
}

// Records who changed which subscription how: the event log does not hold them.
void log_change(const request_scope& scope, std::string_view what, const std::string& id) {
  spdlog::info("webhook subscription {} {} by {} (request {})", id, what, scope.caller().user_id,
               scope.request().request_id);
}

// ---- input ----

// A target the policy allows, or 422 on `field`. Its host is resolved here.
std::string checked_url(const request_scope& scope, const json_object& o) {
  auto text = o.string("url");
  std::string why;
  const auto url = wh::parse_target_url(text, why);
  if (!url) fail(o.field("url"), why);
  try {
    wh::checked_addresses(*url, scope.services().webhook_targets);
  } catch (const wh::target_refused& e) {
    fail(o.field("url"),
         std::string(e.what()) +
             ": webhooks go to public addresses only, unless the operator allows private ones");
  } catch (const wh::target_unresolvable& e) {
    fail(o.field("url"), e.what());
  }
  return text;
}

std::vector<std::string> read_patterns(const json_object& o) {
  const auto patterns = o.strings("event_types", kMaxPatterns);
  if (patterns.empty()) fail(o.field("event_types"), "must name at least one kind of event");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const auto field = o.field("event_types") + "/" + std::to_string(i);
    if (auto why = wh::check_pattern(patterns[i])) fail(field, *why);
    if (!seen.insert(patterns[i]).second) fail(field, "is listed twice");
  }
  return patterns;
}

std::string read_description(const json_object& o) {
  auto text = o.optional_string("description").value_or(std::string());
  if (text.size() > kMaxDescription) fail(o.field("description"), "must be at most 500 bytes");
  return text;
}

// ---- output ----

void write_subscription(json_out& out, const wh::subscription& s,
                        const std::optional<std::string>& secret = std::nullopt) {
  out.begin_object();
  out.key("id").string(s.id);
  out.key("url").string(s.url);
  out.key("description").string(s.description);
  out.key("event_types").begin_array();
  for (const auto& p : s.event_types) out.string(p);
  out.end_array();
  out.key("active").boolean(s.active);
  out.key("position").integer(s.position);
  out.key("created_by").string(s.created_by);
  out.key("created_at").time(s.created_at);
  out.key("updated_at").time(s.updated_at);
  out.key("previous_secret_expires_at");
  if (s.previous_secret_expires_at) {
    out.time(*s.previous_secret_expires_at);
  } else {
    out.null();
  }
  if (secret) out.key("secret").string(*secret);
  out.end_object();
}

void write_optional_time(json_out& out, const std::optional<infra::timestamp>& t) {
  if (t) {
    out.time(*t);
  } else {
    out.null();
  }
}

void write_delivery(json_out& out, const wh::delivery& d,
                    const std::vector<wh::attempt>* attempts = nullptr) {
  out.begin_object();
  out.key("id").string(d.id);
  out.key("subscription_id").string(d.subscription_id);
  out.key("event_id").string(d.event_id);
  out.key("event_type").string(d.event_type);
  out.key("event_position").integer(d.event_position);
  out.key("reason").string(wh::to_string(d.reason));
  out.key("redelivery_of").optional_string(d.redelivery_of);
  out.key("status").string(wh::to_string(d.status));
  out.key("attempt_count").integer(d.attempts);
  out.key("next_attempt_at");
  write_optional_time(out, d.next_attempt_at);
  out.key("created_at").time(d.created_at);
  out.key("completed_at");
  write_optional_time(out, d.completed_at);
  out.key("last_status_code");
  if (d.last_status_code) {
    out.integer(*d.last_status_code);
  } else {
    out.null();
  }
  out.key("last_error").optional_string(d.last_error);
  if (attempts) {
    out.key("attempts").begin_array();
    for (const auto& a : *attempts) {
      out.begin_object();
      out.key("attempt").integer(a.number);
      out.key("at").time(a.at);
      out.key("duration_ms")
          .raw(std::to_string(a.duration.count() / 1000) + "." +
               std::to_string(a.duration.count() % 1000 / 100));
      out.key("status_code");
      if (a.status_code) {
        out.integer(*a.status_code);
      } else {
        out.null();
      }
      out.key("error").optional_string(a.error);
      out.key("outcome").string(wh::to_string(a.outcome));
      out.end_object();
    }
    out.end_array();
  }
  out.end_object();
}

http_response subscription_reply(int status, const wh::subscription& s,
                                 const std::optional<std::string>& secret = std::nullopt) {
  json_out out;
  write_subscription(out, s, secret);
  auto r = http_response::json(status, out.take());
  if (status == 201) r.headers.emplace("Location", "/api/webhooks/" + s.id);
  return r;
}

// ---- handlers ----

http_response create(request_scope& scope, wh::webhook_store& store) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"url", "event_types", "description", "active"});
  wh::subscription s;
  s.url = checked_url(scope, o);
  s.event_types = read_patterns(o);
  s.description = read_description(o);
  s.active = o.optional_boolean("active").value_or(true);
  s.id = scope.services().new_id();
  // A new subscription hears what happens from now on; a replay sends it what came before.
  s.position = head_of(scope);
  s.created_by = scope.caller().user_id;
  s.created_at = s.updated_at = scope.services().clock();
  const auto secret = wh::new_secret();
  store.create(s, secret);
  log_change(scope, "created", s.id);
  return subscription_reply(201, s, secret);
}

http_response list(request_scope& scope, wh::webhook_store& store) {
  const query_reader q(scope.request(), {"cursor", "limit"});
  const auto limit = q.limit(kDefaultPage, kMaxPage);
  std::optional<std::string> after;
  if (const auto cursor = q.text("cursor")) {
    const auto fields = projections::support::decode_cursor(kSubscriptionCursor, *cursor, 1);
    if (!fields) fail("cursor", "is not a cursor this API gave out");
    after = (*fields)[0];
  }
  const auto page = store.list(after, limit);
  json_out out;
  out.begin_object().key("items").begin_array();
  for (const auto& s : page.items) write_subscription(out, s);
  out.end_array();
  out.key("next_cursor");
  if (page.next_cursor) {
    out.string(projections::support::encode_cursor(kSubscriptionCursor, {*page.next_cursor}));
  } else {
    out.null();
  }
  out.end_object();
  return http_response::json(200, out.take());
}

http_response get(request_scope& scope, wh::webhook_store& store) {
  return subscription_reply(200, subscription_or_404(store, scope.request()));
}

http_response update(request_scope& scope, wh::webhook_store& store) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"url", "event_types", "description", "active"});
  auto s = subscription_or_404(store, scope.request());
  bool changed = false;
  if (o.has("url")) {
    s.url = checked_url(scope, o);
    changed = true;
  }
  if (o.has("event_types")) {
    s.event_types = read_patterns(o);
    changed = true;
  }
  if (o.has("description")) {
    s.description = read_description(o);
    changed = true;
  }
  if (o.has("active")) {
    const bool active = o.boolean("active");
    // Switched back on, it hears what happens from now on, not what it missed while off.
    if (active && !s.active) s.position = head_of(scope);
    s.active = active;
    changed = true;
  }
  if (!changed) fail("", "send at least one of url, event_types, description, active");
  s.updated_at = scope.services().clock();
  if (!store.update(s)) not_found("no webhook subscription has this id");
  log_change(scope, "updated", s.id);
  return subscription_reply(200, s);
}

http_response remove(request_scope& scope, wh::webhook_store& store) {
  const std::string id(scope.request().path_param("id"));
  if (!store.remove(id)) not_found("no webhook subscription has this id");
  log_change(scope, "deleted", id);
  json_out out;
  out.begin_object().key("id").string(id).key("deleted").boolean(true).end_object();
  return http_response::json(200, out.take());
}

http_response rotate(request_scope& scope, wh::webhook_store& store) {
  std::int64_t overlap = 0;
  if (const auto body = optional_body_of(scope.request())) {
    const auto o = body->root();
    o.allow_only({"keep_previous_for_seconds"});
    overlap = o.optional_int64("keep_previous_for_seconds", 0, kMaxOverlapSeconds).value_or(0);
  }
  const auto existing = subscription_or_404(store, scope.request());
  const auto now = scope.services().clock();
  std::optional<infra::timestamp> until;
  if (overlap > 0) until = now + std::chrono::seconds(overlap);
  const auto secret = wh::new_secret();
  if (!store.rotate_secret(existing.id, secret, until, now)) {
    not_found("no webhook subscription has this id");
  }
  log_change(scope, "had its secret rotated", existing.id);
  return subscription_reply(200, subscription_or_404(store, scope.request()), secret);
}

http_response replay(request_scope& scope, wh::webhook_store& store) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"from_position"});
  const auto from = o.int64("from_position", 0);
  const auto head = head_of(scope);
  if (from > head) fail(o.field("from_position"), "is after the last event in the log");
  const auto s = subscription_or_404(store, scope.request());
  const auto position = store.rewind(s.id, from, scope.services().clock());
  if (!position) not_found("no webhook subscription has this id");
  log_change(scope, "replays from position " + std::to_string(from), s.id);
  json_out out;
  out.begin_object();
  out.key("id").string(s.id);
  out.key("from_position").integer(from);
  out.key("position").integer(*position);
  out.key("head").integer(head);
  out.end_object();
  return http_response::json(200, out.take());
}

http_response deliveries(request_scope& scope, wh::webhook_store& store) {
  const query_reader q(scope.request(), {"status", "cursor", "limit"});
  const auto limit = q.limit(kDefaultPage, kMaxPage);
  const auto s = subscription_or_404(store, scope.request());
  std::optional<wh::delivery_status> status;
  if (const auto text = q.text("status")) {
    status = wh::delivery_status_from(*text);
    if (!status) fail("status", "must be pending, delivered or failed");
  }
  std::optional<std::string> after;
  if (const auto cursor = q.text("cursor")) {
    const auto fields = projections::support::decode_cursor(kDeliveryCursor, *cursor, 2);
    if (!fields || (*fields)[0] != s.id) {
      fail("cursor", "is not a cursor of this subscription's deliveries");
    }
    after = (*fields)[1];
  }
  const auto page = store.deliveries(s.id, status, after, limit);
  json_out out;
  out.begin_object().key("items").begin_array();
  for (const auto& d : page.items) write_delivery(out, d);
  out.end_array();
  out.key("next_cursor");
  if (page.next_cursor) {
    out.string(projections::support::encode_cursor(kDeliveryCursor, {s.id, *page.next_cursor}));
  } else {
    out.null();
  }
  out.end_object();
  return http_response::json(200, out.take());
}

http_response delivery(request_scope& scope, wh::webhook_store& store) {
  const auto& request = scope.request();
  const auto d = store.find_delivery(request.path_param("id"), request.path_param("delivery_id"));
  if (!d) not_found("this subscription has no delivery with this id");
  const auto attempts = store.attempts_of(d->id);
  json_out out;
  write_delivery(out, *d, &attempts);
  return http_response::json(200, out.take());
}

http_response redeliver(request_scope& scope, wh::webhook_store& store) {
  if (const auto body = optional_body_of(scope.request())) body->root().allow_only({});
  const auto& request = scope.request();
  const auto d = store.redeliver(request.path_param("id"), request.path_param("delivery_id"),
                                 scope.services().new_id(), scope.services().clock());
  if (!d) not_found("this subscription has no delivery with this id");
  log_change(scope, "redelivers " + std::string(request.path_param("delivery_id")) + " as " + d->id,
             d->subscription_id);
  json_out out;
  write_delivery(out, *d);
  return http_response::json(200, out.take());
}

http_response kinds(request_scope&, wh::webhook_store&) {
  json_out out;
  out.begin_object().key("items").begin_array();
  out.string("*");
  std::string aggregate;
  for (const auto& kind : wh::known_event_kinds()) {
    const auto prefix = kind.substr(0, kind.find('.'));
    if (prefix != aggregate) {
      aggregate = prefix;
      out.string(aggregate + ".*");
    }
    out.string(kind);
  }
  out.end_array().end_object();
  return http_response::json(200, out.take());
}

}  // namespace

void add_webhook_routes(router& routes, crm_services& services) {
  add_webhook_route(routes, services, "GET", "/api/webhooks", "webhooks.list",
                    "Webhook subscriptions, oldest first (secrets are never shown again)", {},
                    R"({"type":"object","required":["items","next_cursor"],"properties":{)"
                    R"("items":{"type":"array","items":{"type":"object"}},)"
                    R"("next_cursor":{"type":["string","null"]}}})",
                    list);
  add_webhook_route(routes, services, "POST", "/api/webhooks", "webhooks.create",
                    "Subscribe a URL to kinds of events; the answer shows the signing secret, "
                    "once",
                    kCreateBody, kWithSecretSchema, create);
  add_webhook_route(routes, services, "GET", "/api/webhooks/event-types", "webhooks.event_types",
                    "The patterns a subscription may name: *, each aggregate's <aggregate>.* and "
                    "every kind of event",
                    {}, kKindsSchema, kinds);
  add_webhook_route(routes, services, "GET", "/api/webhooks/{id}", "webhooks.get",
                    "A webhook subscription", {}, kSubscriptionSchema, get);
  add_webhook_route(routes, services, "PATCH", "/api/webhooks/{id}", "webhooks.update",
                    "Change a subscription's URL, kinds of events, description or whether it is "
                    "active",
                    kSubscriptionBody, kSubscriptionSchema, update);
  add_webhook_route(routes, services, "DELETE", "/api/webhooks/{id}", "webhooks.delete",
                    "Delete a subscription with its deliveries and their attempts", {},
                    kDeletedSchema, remove);
  add_webhook_route(routes, services, "POST", "/api/webhooks/{id}/rotate-secret",
                    "webhooks.rotate_secret",
                    "A new signing secret, shown once; the old one may sign beside it for a while",
                    kRotateBody, kWithSecretSchema, rotate);
  add_webhook_route(routes, services, "POST", "/api/webhooks/{id}/replay", "webhooks.replay",
                    "Deliver again every matching event after a position of the log", kReplayBody,
                    kReplaySchema, replay);
  add_webhook_route(routes, services, "GET", "/api/webhooks/{id}/deliveries", "webhooks.deliveries",
                    "A subscription's deliveries, newest first (status, cursor, limit)", {},
                    R"({"type":"object","required":["items","next_cursor"],"properties":{)"
                    R"("items":{"type":"array","items":{"type":"object","properties":{)" +
                        kDeliveryProperties + R"(}}},"next_cursor":{"type":["string","null"]}}})",
                    deliveries);
  add_webhook_route(routes, services, "GET", "/api/webhooks/{id}/deliveries/{delivery_id}",
                    "webhooks.delivery", "A delivery with every attempt", {}, kDeliverySchema,
                    delivery);
  add_webhook_route(routes, services, "POST",
                    "/api/webhooks/{id}/deliveries/{delivery_id}/redeliver", "webhooks.redeliver",
                    "Deliver a delivery's event again, as a new delivery", {}, kDeliverySchema,
                    redeliver);
}

}  // namespace realmkit::api::crm

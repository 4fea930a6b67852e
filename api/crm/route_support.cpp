#include "api/crm/route_support.hpp"

#include <algorithm>
#include <charconv>

#include "infra/crypto/mac.hpp"

namespace realmkit::api::crm {
namespace {

constexpr std::size_t kMaxIdempotencyKeyLength = 255;

// The answer shapes every command and every list shares, for the OpenAPI document.
constexpr const char* kCommandSchema =
    R"({"type":"object","required":["id","stream_id","version","position"],"properties":{)"
    R"("id":{"type":"string"},"stream_id":{"type":"string"},"version":{"type":"integer"},)"
    R"("position":{"type":"integer"}}})";
constexpr const char* kListSchema =
    R"({"type":"object","required":["items","next_cursor","position"],"properties":{)"
    R"("items":{"type":"array","items":{"type":"object"}},)"
    R"("next_cursor":{"type":["string","null"]},"position":{"type":"integer"}}})";

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

bool is_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyLength) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

// The facts the ownership rules need about a user.
struct user_facts {
  bool exists = false;
  bool active = false;
  std::optional<std::string> team;
};

user_facts facts_of(crm_services& services, const domain::user_id& user) {
  if (const auto account = services.queries.user_by_id(user.value)) {
    return {true, account->active, account->team_id};
  }
  if (domain::rules::check_id("", user.value)) return {};
  // The read side may not have seen a user created a moment ago: their stream decides.
  const auto loaded = services.handler.load<domain::user_aggregate>(user.value);
  if (!loaded.state.exists) return {};
  std::optional<std::string> team;
  if (loaded.state.team) team = loaded.state.team->value;
  return {true, loaded.state.active, team};
}

}  // namespace

void fail(std::string field, std::string reason) {
  throw problem_error(make_problem(problem_kind::validation, std::move(reason), std::move(field)));
}

void forbid(std::string reason, std::string field) {
  throw problem_error(make_problem(problem_kind::forbidden, std::move(reason), std::move(field)));
}

void not_found(std::string what) {
  throw problem_error(make_problem(problem_kind::not_found, std::move(what)));
}

// ---- request_scope ----

request_scope::request_scope(crm_services& services, const http_request& request)
    : services_(services), request_(request) {
  const auto* who = std::any_cast<const auth::principal>(&request.principal);
  if (!who) {
    auto p = make_problem(problem_kind::unauthorized, "sign in and send a bearer token");
    p.headers.emplace("WWW-Authenticate", "Bearer");
    throw problem_error(std::move(p));
  }
  caller_ = *who;
  meta_.actor = domain::user_id{caller_.user_id};
  meta_.now = services.clock();
  meta_.correlation_id = request.request_id;
  meta_.ip = request.remote_address;
  if (request.method != "GET" && request.method != "HEAD") {
    if (const auto* key = request.header("Idempotency-Key")) {
      if (!is_idempotency_key(*key)) {
        fail("Idempotency-Key", "must be 1-255 visible ASCII characters");
      }
      meta_.idempotency_key = *key;
      // A key names one request: the same key with another method, path or body is refused.
      meta_.idempotency_fingerprint =
          infra::crypto::sha256_hex(request.method + ' ' + request.path + '\n' + request.body);
    }
  }
}

std::optional<std::string> request_scope::team_of(const domain::user_id& user) const {
  // The common case, one lookup: a user the read side knows, in a team.
  if (auto team = services_.queries.team_of(user.value)) return team;
  return facts_of(services_, user).team;
}

bool request_scope::can_see_owner(const domain::user_id& owner) const {
  if (auth::scope_of(caller_.role) == auth::record_scope::all) return true;
  const auto record_team = team_of(owner);
  std::optional<std::string_view> mine;
  if (caller_.team_id) mine = *caller_.team_id;
  std::optional<std::string_view> theirs;
  if (record_team) theirs = *record_team;
  return auth::can_see_record(caller_.role, mine, theirs);
}

std::optional<std::optional<std::string>> request_scope::only_team() const {
  if (auth::scope_of(caller_.role) == auth::record_scope::all) return std::nullopt;
  return std::optional<std::optional<std::string>>(caller_.team_id);
}

void request_scope::check_owner(const domain::user_id& owner, std::string_view field) const {
  const auto facts = facts_of(services_, owner);
  switch (caller_.role) {
    case domain::user_role::admin:
      break;
    case domain::user_role::manager:
      if (!caller_.team_id || facts.team != caller_.team_id) {
        forbid("a manager gives records only to members of their team", std::string(field));
      }
      break;
    case domain::user_role::sales_rep:
      if (owner.value != caller_.user_id) {
        forbid("a sales rep owns records only themselves", std::string(field));
      }
      break;
    default:
      forbid("this role does not own records", std::string(field));
  }
  if (!facts.exists || !facts.active) fail(std::string(field), "is not an active user");
}

namespace {

route make_route(crm_services& services, std::string method, std::string pattern, std::string name,
                 auth::permission permission, std::string summary, crm_handler handle) {
  route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.name = std::move(name);
  r.permission = std::string(auth::to_string(permission));
  r.summary = std::move(summary);
  r.blocking = true;
  const bool collection = r.pattern.find('{') == std::string::npos;
  if (r.method == "GET") {
    // Reads query the read-model database: they run on the worker pool like commands.
    if (collection) r.response_schema = kListSchema;
  } else {
    r.response_schema = kCommandSchema;
    if (r.method == "POST" && collection) r.success_status = 201;
  }
  r.handle = [&services, permission, handle = std::move(handle)](const http_request& request) {
    request_scope scope(services, request);
    // The guard checks the permission too; checking here keeps the routes safe behind any guard.
    if (!auth::has_permission(scope.caller().role, permission)) {
      forbid("the role " + std::string(to_string(scope.caller().role)) + " lacks " +
             std::string(auth::to_string(permission)));
    }
    return handle(scope);
  };
  return r;
}

}  // namespace

void add_route(router& routes, crm_services& services, std::string method, std::string pattern,
               std::string name, auth::permission permission, std::string summary,
               crm_handler handle) {
  routes.add(make_route(services, std::move(method), std::move(pattern), std::move(name),
                        permission, std::move(summary), std::move(handle)));
}

void add_action_route(router& routes, crm_services& services, std::string method,
                      std::string pattern, std::string name, auth::permission permission,
                      std::string summary, std::string response_schema, crm_handler handle) {
  auto r = make_route(services, std::move(method), std::move(pattern), std::move(name), permission,
                      std::move(summary), std::move(handle));
  r.response_schema = std::move(response_schema);
  r.success_status = 200;
  routes.add(std::move(r));
}

// ---- input ----

json_body body_of(const http_request& request) {
  return json_body::from_request(request);
}

std::optional<json_body> optional_body_of(const http_request& request) {
  if (request.body.empty()) return std::nullopt;
  return json_body::from_request(request);
}

std::optional<std::int64_t> expected_version(const http_request& request,
                                             const std::optional<json_object>& body) {
  std::optional<std::int64_t> from_header;
  if (const auto* match = request.header("If-Match"); match && *match != "*") {
    std::string_view text = *match;
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
      text = text.substr(1, text.size() - 2);
    }
    from_header = parse_int(text);
    if (!from_header || *from_header < 0) {
      fail("If-Match", "must be the quoted version of the record (an ETag), e.g. \"3\"");
    }
  }
  std::optional<std::int64_t> from_body;
  if (body) {
    from_body = body->optional_int64("expected_version", 0);
  }
  if (from_header && from_body && *from_header != *from_body) {
    fail("expected_version", "differs from If-Match");
  }
  return from_body ? from_body : from_header;
}

std::string path_id(const http_request& request, std::string_view name) {
  std::string id(request.path_param(name));
  if (domain::rules::check_id("", id)) not_found("no record has this id");
  return id;
}

domain::money read_money(const json_object& o, std::string_view name) {
  const auto value = o.object(name);
  value.allow_only({"amount_minor", "currency"});
  return domain::money{value.int64("amount_minor"), value.string("currency")};
}

domain::timestamp read_time(const json_object& o, std::string_view name) {
  const auto text = o.string(name);
  const auto t = infra::parse_timestamp(text);
  if (!t) fail(o.field(name), "must be an RFC 3339 date-time, e.g. 2026-11-27T12:00:00Z");
  return *t;
}

std::optional<domain::timestamp> optional_time(const json_object& o, std::string_view name) {
  if (!o.optional_string(name)) return std::nullopt;
  return read_time(o, name);
}

std::optional<domain::date> optional_day(const json_object& o, std::string_view name) {
  const auto text = o.optional_string(name);
  if (!text) return std::nullopt;
  const auto d = infra::parse_date(*text);
  if (!d) fail(o.field(name), "must be a calendar date, e.g. 2026-11-27");
  return *d;
}

domain::entity_ref read_ref(const json_object& o, std::string_view name) {
  const auto ref = o.object(name);
  ref.allow_only({"kind", "id"});
  return domain::entity_ref{read_enum<domain::entity_kind>(ref, "kind"), ref.string("id")};
}

// ---- reads ----

void await_min_position(const request_scope& scope) {
  const auto text = scope.request().query_param("min_position");
  if (!text) return;
  const auto position = parse_int(*text);
  if (!position || *position < 0) fail("min_position", "must be a non-negative integer");
  const auto wait = scope.services().max_wait;
  if (!scope.services().queries.wait_for(*position, wait)) {
    throw problem_error(
        make_problem(problem_kind::unavailable, "the read side has not reached position " +
                                                    std::to_string(*position) + " within " +
                                                    std::to_string(wait.count()) + " ms; retry"));
  }
}

list_query list_params(const request_scope& scope, std::initializer_list<std::string_view> filters,
                       bool team_owned, bool by_score) {
  list_query q;
  bool has_cursor = false;
  for (const auto& [name, value] : scope.request().query) {
    auto allowed = [&](std::string_view f) {
      for (auto a : filters) {
        if (a == f) return true;
      }
      return false;
    };
    if (name == "min_position") {
      continue;  // await_min_position
    } else if (name == "limit") {
      const auto n = parse_int(value);
      if (!n || *n < 1 || *n > static_cast<std::int64_t>(kMaxPageSize)) {
        fail("limit", "must be between 1 and " + std::to_string(kMaxPageSize));
      }
      q.limit = static_cast<std::size_t>(*n);
    } else if (name == "cursor") {
      q.after = decode_cursor(value);
      if (!q.after) fail("cursor", "is not a cursor this API gave out");
      has_cursor = true;
    } else if (name == "sort") {
      std::string_view text = value;
      q.descending = !text.empty() && text.front() == '-';
      if (q.descending) text.remove_prefix(1);
      if (!from_string(text, q.sort) || (q.sort == sort_field::score && !by_score)) {
        fail("sort", by_score ? "must be created_at, updated_at, name or score, with '-' for "
                                "descending order"
                              : "must be created_at, updated_at or name, with '-' for descending "
                                "order");
      }
    } else if (name == "include_archived") {
      if (value != "true" && value != "false") fail("include_archived", "must be true or false");
      q.include_archived = value == "true";
    } else if (!allowed(name)) {
      fail(name, "is not a parameter of this list");
    } else if (value.empty()) {
      fail(name, "must not be empty");
    } else if (name == "owner") {
      q.owner = value;
    } else if (name == "team") {
      q.team = value;
    } else if (name == "status") {
      q.status = value;
    } else if (name == "stage") {
      q.stage = value;
    } else if (name == "pipeline") {
      q.pipeline = value;
    } else if (name == "subject") {
      const auto colon = value.find(':');
      domain::entity_ref ref;
      if (colon == std::string::npos || !from_string(value.substr(0, colon), ref.kind)) {
        fail("subject", "must read <kind>:<id>, kind one of contact, company, deal, lead");
      }
      ref.id = value.substr(colon + 1);
      q.subject = std::move(ref);
    } else if (name == "updated_since") {
      q.updated_since = infra::parse_timestamp(value);
      if (!q.updated_since) fail("updated_since", "must be an RFC 3339 date-time");
    }
  }
  if (has_cursor && (q.after->sort != q.sort || q.after->descending != q.descending)) {
    fail("cursor", "belongs to another sort order; send the same sort as the first page");
  }
  if (team_owned) q.only_team = scope.only_team();
  return q;
}

namespace {

template <class Aggregate, class View>
void check_link(const request_scope& scope, std::optional<View> found, const std::string& id,
                std::string_view field) {
  const domain::user_id* owner = nullptr;
  typename Aggregate::state loaded;
  if (found) {
    owner = owner_of(found->state);
  } else {
    // The read side may not have seen a record created a moment ago: its stream decides.
    loaded = scope.services().handler.load<Aggregate>(id).state;
    if (!loaded.exists) fail(std::string(field), "no such record");
    owner = owner_of(loaded);
  }
  if (owner && !scope.can_see_owner(*owner)) fail(std::string(field), "no such record");
}

}  // namespace

void check_linked(const request_scope& scope, domain::entity_kind kind, const std::string& id,
                  std::string_view field) {
  if (domain::rules::check_id("", id)) fail(std::string(field), "is not a valid id");
  const auto& q = scope.services().queries;
  switch (kind) {
    case domain::entity_kind::contact:
      return check_link<domain::contact_aggregate>(scope, q.find_contact(id), id, field);
    case domain::entity_kind::company:
      return check_link<domain::company_aggregate>(scope, q.find_company(id), id, field);
    case domain::entity_kind::deal:
      return check_link<domain::deal_aggregate>(scope, q.find_deal(id), id, field);
    case domain::entity_kind::lead:
      return check_link<domain::lead_aggregate>(scope, q.find_lead(id), id, field);
  }
  fail(std::string(field), "no such record");
}

void allow_with_version(const json_object& o, std::initializer_list<std::string_view> fields) {
  for (auto it = o.value().MemberBegin(); it != o.value().MemberEnd(); ++it) {
    const std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key == "expected_version") continue;
    if (std::find(fields.begin(), fields.end(), key) == fields.end()) {
      fail(o.field(key), "is not a field of this request");
    }
  }
}

std::optional<std::int64_t> bodyless_expected_version(const http_request& request) {
  const auto body = optional_body_of(request);
  if (!body) return expected_version(request, std::nullopt);
  body->root().allow_only({"expected_version"});
  return expected_version(request, body->root());
}

// ---- command answers ----

std::string aggregate_id_of(std::string_view stream_id) {
  const auto dash = stream_id.find('-');
  return std::string(dash == std::string_view::npos ? stream_id : stream_id.substr(dash + 1));
}

http_response command_reply(const commands::outcome& o, int status,
                            const std::function<void(json_out&)>& extra,
                            std::string_view location) {
  if (!o.ok()) throw problem_error(problem_for(o.error(), o.current_version));
  const auto& r = o.result();
  const auto id = aggregate_id_of(r.stream_id);
  json_out out;
  out.begin_object();
  out.key("id").string(id);
  out.key("stream_id").string(r.stream_id);
  out.key("version").integer(r.version);
  out.key("position").integer(r.position);
  if (extra) extra(out);
  out.end_object();
  auto response = http_response::json(status, out.take());
  if (!location.empty()) response.headers.emplace("Location", std::string(location) + id);
  return response;
}

}  // namespace realmkit::api::crm

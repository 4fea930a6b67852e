// What every CRM route shares: the caller and their scope, reading typed fields from bodies and
// query strings, the HTTP conventions (Idempotency-Key, If-Match, ETag, min_position, cursors) and
// the shapes of command, view and list answers. Internal to api/crm.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth/auth_types.hpp"
#include "api/auth/permissions.hpp"
#include "api/crm/crm_json.hpp"
#include "api/crm/crm_routes.hpp"
#include "api/error_mapping.hpp"
#include "api/json_body.hpp"
#include "commands/crm_commands.hpp"
#include "infra/json/json_time.hpp"

namespace realmkit::api::crm {

// Throws a 422 validation problem naming `field`.
[[noreturn]] void fail(std::string field, std::string reason);
// Throws a 403 problem, naming `field` when one is at fault.
[[noreturn]] void forbid(std::string reason, std::string field = {});
// Throws a 404 problem.
[[noreturn]] void not_found(std::string what);

// The caller of one CRM request and what they may reach.
class request_scope {
 public:
  // Answers 401 when no guard authenticated the request, 422 for a malformed Idempotency-Key.
  request_scope(crm_services& services, const http_request& request);

  crm_services& services() const { return services_; }
  const http_request& request() const { return request_; }
  const auth::principal& caller() const { return caller_; }
  domain::user_id caller_id() const { return domain::user_id{caller_.user_id}; }
  bool is_admin() const { return caller_.role == domain::user_role::admin; }

  // Actor, time, correlation id (the request id), Idempotency-Key with the request's fingerprint,
  // client address.
  const commands::command_metadata& metadata() const { return meta_; }

  // The team of a user: from the read side, or from the user's stream when the read side has not
  // seen the user yet (a user created a moment ago).
  std::optional<std::string> team_of(const domain::user_id& user) const;
  // Whether the caller sees team-owned records of this owner.
  bool can_see_owner(const domain::user_id& owner) const;
  // The list filter of the caller's scope: unset for every team, else their team (or none).
  std::optional<std::optional<std::string>> only_team() const;

  // Refuses an owner the caller may not give a record to: a sales rep only themselves, a manager
  // the members of their team, an admin anyone (403 naming `field`); and anyone who is not an
  // active user (422).
  void check_owner(const domain::user_id& owner, std::string_view field) const;

  // Refuses, inside the command's unit of work, a record outside the caller's scope as not found.
  template <class State>
  commands::precondition<State> visible() const {
    return [this](const State& s) -> std::optional<domain::rejection> {
      if (!s.exists) return std::nullopt;  // decide answers not found itself
      const auto* owner = owner_of(s);
      if (owner && !can_see_owner(*owner)) return domain::not_found("no such record");
      return std::nullopt;
    };
  }

 private:
  crm_services& services_;
  const http_request& request_;
  auth::principal caller_;
  commands::command_metadata meta_;
};

using crm_handler = std::function<http_response(request_scope&)>;

// Adds a route whose handler runs with a request_scope, after checking `permission` (403).
void add_route(router& routes, crm_services& services, std::string method, std::string pattern,
               std::string name, auth::permission permission, std::string summary,
               crm_handler handle);

// The same for a route whose answer is neither a list nor a command's result (an action's
// report): 200 with its own JSON Schema, whatever its method and path.
void add_action_route(router& routes, crm_services& services, std::string method,
                      std::string pattern, std::string name, auth::permission permission,
                      std::string summary, std::string response_schema, crm_handler handle);

// ---- input ----

// The JSON object body (415, 400, 422 as json_body says).
json_body body_of(const http_request& request);
// No body at all is allowed for commands without fields; a body must still be a JSON object.
std::optional<json_body> optional_body_of(const http_request& request);

// The caller's expected version: If-Match: "<version>" or the body's expected_version; both must
// agree when both are sent.
std::optional<std::int64_t> expected_version(const http_request& request,
                                             const std::optional<json_object>& body);
inline std::optional<std::int64_t> expected_version(const http_request& request,
                                                    const json_object& body) {
  return expected_version(request, std::optional<json_object>(body));
}

// A path parameter naming a record; one that cannot be an id is simply not found.
std::string path_id(const http_request& request, std::string_view name = "id");

domain::money read_money(const json_object& o, std::string_view name);
domain::timestamp read_time(const json_object& o, std::string_view name);
std::optional<domain::timestamp> optional_time(const json_object& o, std::string_view name);
std::optional<domain::date> optional_day(const json_object& o, std::string_view name);
domain::entity_ref read_ref(const json_object& o, std::string_view name);

template <class E>
E read_enum(const json_object& o, std::string_view name) {
  E value{};
  if (!from_string(o.string(name), value)) fail(o.field(name), "is not one of the known values");
  return value;
}
template <class E>
std::optional<E> optional_enum(const json_object& o, std::string_view name) {
  if (!o.optional_string(name)) return std::nullopt;
  return read_enum<E>(o, name);
}

template <class Id>
Id read_id(const json_object& o, std::string_view name) {
  return Id{o.string(name)};
}
template <class Id>
std::optional<Id> optional_id(const json_object& o, std::string_view name) {
  if (auto s = o.optional_string(name)) return Id{std::move(*s)};
  return std::nullopt;
}
template <class Id>
std::vector<Id> read_ids(const json_object& o, std::string_view name, std::size_t max = 100) {
  std::vector<Id> out;
  for (auto& s : o.strings(name, max)) out.push_back(Id{std::move(s)});
  return out;
}

// ---- reads ----

// Waits for the min_position query parameter, if any (503 after services().max_wait).
void await_min_position(const request_scope& scope);

// The list parameters: limit, cursor, sort, include_archived, min_position and the entity's
// `filters` (owner, team, status, stage, pipeline, subject, updated_since). Anything else is
// refused naming it. `team_owned`: apply the caller's record scope. `by_score`: sort=score is
// allowed (leads).
list_query list_params(const request_scope& scope, std::initializer_list<std::string_view> filters,
                       bool team_owned, bool by_score = false);

// 200 with the view, its version in the body and as ETag; 304 for a matching If-None-Match.
template <class View>
http_response view_reply(const request_scope& scope, const View& v) {
  const std::string etag = "\"" + std::to_string(v.meta.version) + "\"";
  if (const auto* match = scope.request().header("If-None-Match"); match && *match == etag) {
    auto r = http_response::empty(304);
    r.headers.emplace("ETag", etag);
    return r;
  }
  json_out out;
  write(out, v);
  auto r = http_response::json(200, out.take());
  r.headers.emplace("ETag", etag);
  return r;
}

template <class View>
http_response list_reply(const page<View>& p) {
  json_out out;
  out.begin_object().key("items").begin_array();
  for (const auto& item : p.items) write(out, item);
  out.end_array();
  out.key("next_cursor").optional_string(p.next_cursor);
  out.key("position").integer(p.position);
  out.end_object();
  return http_response::json(200, out.take());
}

// A found, visible team-owned record, or 404.
template <class View>
View visible_or_404(const request_scope& scope, std::optional<View> v, std::string_view what) {
  if (!v) not_found(std::string(what) + " does not exist");
  if (const auto* owner = owner_of(v->state); owner && !scope.can_see_owner(*owner)) {
    not_found(std::string(what) + " does not exist");
  }
  return std::move(*v);
}

// 404 unless the record exists and is in the caller's scope, read from its stream: routes that
// check more of a request (a new owner, a linked record) call it first, so a hidden record answers
// 404 whatever else is wrong. The command's precondition checks again on the state it decides on.
template <class Aggregate>
void ensure_visible(const request_scope& scope, const std::string& id) {
  const auto loaded = scope.services().handler.load<Aggregate>(id);
  const auto* owner = owner_of(loaded.state);
  if (!loaded.state.exists || (owner && !scope.can_see_owner(*owner))) {
    not_found("no record has this id");
  }
}

// Refuses a link to a record that does not exist or that the caller cannot see (a hidden record
// reads as missing): 422 naming `field`.
void check_linked(const request_scope& scope, domain::entity_kind kind, const std::string& id,
                  std::string_view field);

// ---- command answers ----

// The id of the aggregate a stream holds: "deal-0193…" → "0193…".
std::string aggregate_id_of(std::string_view stream_id);

// A rejected outcome becomes its problem; an accepted one {id, stream_id, version, position}
// plus what `extra` writes, with `status`; a `location` prefix ("/api/deals/") adds Location.
http_response command_reply(const commands::outcome& o, int status = 200,
                            const std::function<void(json_out&)>& extra = {},
                            std::string_view location = {});
// 201 with Location: <collection>/<id>.
inline http_response created_reply(const commands::outcome& o, std::string_view collection,
                                   const std::function<void(json_out&)>& extra = {}) {
  return command_reply(o, 201, extra, collection);
}

// The expected version of a command without fields: no body, or a body with at most
// expected_version; or If-Match.
std::optional<std::int64_t> bodyless_expected_version(const http_request& request);

// Refuses members of `o` that are neither one of `fields` nor expected_version.
void allow_with_version(const json_object& o, std::initializer_list<std::string_view> fields);

// Commands on an existing record: decided together on the record as loaded, refused as not found
// when the record is outside the caller's scope.
template <class Command>
commands::outcome execute_on_record(const request_scope& scope, std::vector<Command> commands,
                                    std::optional<std::int64_t> expected) {
  if (commands.empty()) fail("", "send at least one field to change");
  return commands::execute_all(scope.services().handler, commands, scope.metadata(), expected,
                               scope.visible<commands::state_for<Command>>());
}

// One command on an existing record, answered with {id, stream_id, version, position}.
template <class Command>
http_response record_command(const request_scope& scope, Command command,
                             std::optional<std::int64_t> expected) {
  return command_reply(
      execute_on_record(scope, std::vector<Command>{std::move(command)}, expected));
}

// One command on an existing record whose body holds `fields` and expected_version; `build`
// makes the command from the body.
template <class Command, class Build>
http_response body_command(const request_scope& scope,
                           std::initializer_list<std::string_view> fields, Build build) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  allow_with_version(o, fields);
  Command command = build(o);
  return record_command(scope, std::move(command), expected_version(scope.request(), o));
}

}  // namespace realmkit::api::crm

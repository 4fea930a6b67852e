// /api/leads: prospects on their way to qualification, and their conversion into a contact,
// company and deal.
#include <algorithm>
#include <limits>

#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

lead_id lead_of(const request_scope& scope) {
  return lead_id{path_id(scope.request())};
}

http_response create(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"name", "email", "phone", "company_name", "source", "owner_id"});
  create_lead c;
  c.lead = lead_id{scope.services().new_id()};
  c.name = o.string("name");
  c.email = o.optional_string("email").value_or("");
  c.phone = o.optional_string("phone").value_or("");
  c.company_name = o.optional_string("company_name").value_or("");
  c.source = optional_enum<lead_source>(o, "source").value_or(lead_source::other);
  c.owner = optional_id<user_id>(o, "owner_id").value_or(scope.caller_id());
  scope.check_owner(*c.owner, "owner_id");
  return created_reply(
      commands::execute(scope.services().handler, lead_command{c}, scope.metadata()),
      "/api/leads/");
}

http_response update(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"name", "email", "phone", "company_name", "source", "expected_version"});
  update_lead u{lead_of(scope),
                o.optional_string("name"),
                o.optional_string("email"),
                o.optional_string("phone"),
                o.optional_string("company_name"),
                optional_enum<lead_source>(o, "source")};
  std::vector<lead_command> commands;
  if (u.name || u.email || u.phone || u.company_name || u.source) commands.push_back(u);
  return command_reply(execute_on_record(scope, commands, expected_version(scope.request(), o)));
}

// The ids a conversion created, read back from the lead (so a replayed request answers them too).
void write_conversion(json_out& out, const lead_state& lead) {
  out.key("contact_id").optional_string(lead.converted_contact);
  out.key("company_id").optional_string(lead.converted_company);
  out.key("deal_id").optional_string(lead.converted_deal);
}

http_response convert(request_scope& scope) {
  const auto body = optional_body_of(scope.request());
  std::optional<json_object> o;
  if (body) {
    o = body->root();
    o->allow_only({"create_company", "deal", "owner_id", "expected_version"});
  }
  const auto expected = expected_version(scope.request(), o);
  auto& services = scope.services();
  const auto id = lead_of(scope);
  const auto before = services.handler.load<lead_aggregate>(id.value);

  commands::convert_lead_request request;
  request.lead = id;
  request.contact = contact_id{services.new_id()};
  const bool create_company = (o ? o->optional_boolean("create_company") : std::nullopt)
                                  .value_or(!before.state.company_name.empty());
  if (create_company) request.company = company_id{services.new_id()};
  if (o && o->has("deal") && !o->is_null("deal")) {
    const auto d = o->object("deal");
    d.allow_only({"pipeline_id", "stage_id", "title", "value", "expected_close_date"});
    commands::convert_lead_request::deal_part part;
    part.deal = deal_id{services.new_id()};
    part.pipeline = read_id<pipeline_id>(d, "pipeline_id");
    part.stage = read_id<stage_id>(d, "stage_id");
    part.title = d.optional_string("title").value_or("");
    part.value = read_money(d, "value");
    part.expected_close_date = optional_day(d, "expected_close_date");
    request.deal = std::move(part);
  }
  if (o) {
    request.owner = optional_id<user_id>(*o, "owner_id");
    if (request.owner) {
      ensure_visible<lead_aggregate>(scope, id.value);
      scope.check_owner(*request.owner, "owner_id");
    }
  }
  auto outcome = commands::convert_lead(services.handler, request, scope.metadata(), expected,
                                        scope.visible<lead_state>());
  const auto after = services.handler.load<lead_aggregate>(id.value);
  if (outcome.ok()) {
    return command_reply(outcome, 200, [&](json_out& out) { write_conversion(out, after.state); });
  }
  // Converting again is answered with the first conversion, so the request is idempotent even
  // without an Idempotency-Key (a key already seen is answered by the store before this).
  const bool converted = after.state.exists && after.state.status == lead_status::converted &&
                         !scope.visible<lead_state>()(after.state);
  if (!converted) return command_reply(outcome);
  if (expected && *expected != after.version) {
    auto p =
        make_problem(problem_kind::version_conflict,
                     "the lead is at version " + std::to_string(after.version), "expected_version");
    p.current_version = after.version;
    throw problem_error(std::move(p));
  }
  commands::command_result done;
  done.stream_id = commands::stream_id_of<lead_aggregate>(id.value);
  done.version = after.version;
  // The position to wait for covers every record the conversion wrote.
  done.position = after.last_position;
  const auto& s = after.state;
  if (s.converted_contact) {
    done.position = std::max(
        done.position,
        services.handler.load<contact_aggregate>(s.converted_contact->value).last_position);
  }
  if (s.converted_company) {
    done.position = std::max(
        done.position,
        services.handler.load<company_aggregate>(s.converted_company->value).last_position);
  }
  if (s.converted_deal) {
    done.position =
        std::max(done.position,
                 services.handler.load<deal_aggregate>(s.converted_deal->value).last_position);
  }
  return command_reply(commands::outcome(done), 200,
                       [&](json_out& out) { write_conversion(out, after.state); });
}

}  // namespace

void add_lead_routes(router& routes, crm_services& services) {
  add_route(
      routes, services, "GET", "/api/leads", "leads.list", perm::lead_view,
      "List leads (filters: owner, team, status, updated_since; sort also by score)",
      [](request_scope& scope) {
        await_min_position(scope);
        const auto q = list_params(scope, {"owner", "team", "status", "updated_since"}, true, true);
        return list_reply(scope.services().queries.list_leads(q));
      });
  add_route(routes, services, "POST", "/api/leads", "leads.create", perm::lead_edit,
            "Create a lead", create);
  add_route(routes, services, "GET", "/api/leads/{id}", "leads.get", perm::lead_view, "Get a lead",
            [](request_scope& scope) {
              await_min_position(scope);
              const auto id = path_id(scope.request());
              return view_reply(
                  scope, visible_or_404(scope, scope.services().queries.find_lead(id), "lead"));
            });
  add_route(routes, services, "PATCH", "/api/leads/{id}", "leads.update", perm::lead_edit,
            "Change a lead's details", update);
  add_route(routes, services, "POST", "/api/leads/{id}/owner", "leads.assign_owner",
            perm::lead_edit, "Give a lead to another owner", [](request_scope& scope) {
              return body_command<lead_command>(scope, {"owner_id"}, [&](const json_object& o) {
                const auto owner = read_id<user_id>(o, "owner_id");
                ensure_visible<lead_aggregate>(scope, lead_of(scope).value);
                scope.check_owner(owner, "owner_id");
                return assign_lead_owner{lead_of(scope), owner};
              });
            });
  add_route(routes, services, "POST", "/api/leads/{id}/contacted", "leads.mark_contacted",
            perm::lead_edit, "Record that a lead was contacted", [](request_scope& scope) {
              return record_command<lead_command>(scope, mark_lead_contacted{lead_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/leads/{id}/qualify", "leads.qualify", perm::lead_edit,
            "Qualify a contacted lead", [](request_scope& scope) {
              return record_command<lead_command>(scope, qualify_lead{lead_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/leads/{id}/disqualify", "leads.disqualify",
            perm::lead_edit, "Disqualify a lead, with the reason", [](request_scope& scope) {
              return body_command<lead_command>(scope, {"reason"}, [&](const json_object& o) {
                return disqualify_lead{lead_of(scope), o.string("reason")};
              });
            });
  add_route(routes, services, "POST", "/api/leads/{id}/reopen", "leads.reopen", perm::lead_edit,
            "Reopen a disqualified lead", [](request_scope& scope) {
              return record_command<lead_command>(scope, reopen_lead{lead_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/leads/{id}/score", "leads.score", perm::lead_edit,
            "Score a lead (0-100), with the reason and the model that scored it",
            [](request_scope& scope) {
              return body_command<lead_command>(
                  scope, {"score", "reason", "model"}, [&](const json_object& o) {
                    return score_lead{
                        lead_of(scope),
                        static_cast<int>(o.int64("score", std::numeric_limits<int>::min(),
                                                 std::numeric_limits<int>::max())),
                        o.optional_string("reason").value_or(""), o.string("model")};
                  });
            });
  add_route(routes, services, "POST", "/api/leads/{id}/convert", "leads.convert", perm::lead_edit,
            "Convert a qualified lead into a contact, optionally a company and a deal, at once",
            convert);
}

}  // namespace realmkit::api::crm

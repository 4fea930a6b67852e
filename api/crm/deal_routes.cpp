// /api/deals: the sales opportunities on the pipeline boards, and every command of the deal.
#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

deal_id deal_of(const request_scope& scope) {
  return deal_id{path_id(scope.request())};
}

http_response create(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"pipeline_id", "stage_id", "title", "value", "owner_id", "company_id",
                "contact_ids", "expected_close_date"});
  create_deal c;
  c.deal = deal_id{scope.services().new_id()};
  c.pipeline = read_id<pipeline_id>(o, "pipeline_id");
  c.stage = read_id<stage_id>(o, "stage_id");
  c.title = o.string("title");
  c.value = read_money(o, "value");
  c.owner = optional_id<user_id>(o, "owner_id").value_or(scope.caller_id());
  scope.check_owner(*c.owner, "owner_id");
  c.company = optional_id<company_id>(o, "company_id");
  if (c.company) check_linked(scope, entity_kind::company, c.company->value, "company_id");
  if (o.has("contact_ids") && !o.is_null("contact_ids")) {
    c.contacts = read_ids<contact_id>(o, "contact_ids", kMaxDealContacts);
    for (std::size_t i = 0; i < c.contacts.size(); ++i) {
      check_linked(scope, entity_kind::contact, c.contacts[i].value,
                   "contact_ids/" + std::to_string(i));
    }
  }
  c.expected_close_date = optional_day(o, "expected_close_date");
  return created_reply(
      commands::execute(scope.services().handler, deal_command{c}, scope.metadata()),
      "/api/deals/");
}

http_response update(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"title", "value", "expected_close_date", "expected_version"});
  const auto id = deal_of(scope);
  std::vector<deal_command> commands;
  if (auto title = o.optional_string("title")) commands.push_back(rename_deal{id, *title});
  if (o.has("value") && !o.is_null("value")) {
    commands.push_back(change_deal_value{id, read_money(o, "value")});
  }
  if (o.has("expected_close_date")) {
    commands.push_back(change_deal_close_date{id, optional_day(o, "expected_close_date")});
  }
  return command_reply(execute_on_record(scope, commands, expected_version(scope.request(), o)));
}

}  // namespace

void add_deal_routes(router& routes, crm_services& services) {
  add_route(routes, services, "GET", "/api/deals", "deals.list", perm::deal_view,
            "List deals (filters: owner, team, status, stage, pipeline, updated_since)",
            [](request_scope& scope) {
              await_min_position(scope);
              const auto q = list_params(
                  scope, {"owner", "team", "status", "stage", "pipeline", "updated_since"}, true);
              return list_reply(scope.services().queries.list_deals(q));
            });
  add_route(routes, services, "POST", "/api/deals", "deals.create", perm::deal_edit,
            "Create a deal in a stage of a pipeline", create);
  add_route(routes, services, "GET", "/api/deals/{id}", "deals.get", perm::deal_view, "Get a deal",
            [](request_scope& scope) {
              await_min_position(scope);
              const auto id = path_id(scope.request());
              return view_reply(
                  scope, visible_or_404(scope, scope.services().queries.find_deal(id), "deal"));
            });
  add_route(routes, services, "PATCH", "/api/deals/{id}", "deals.update", perm::deal_edit,
            "Change a deal's title, value or expected close date", update);
  add_route(routes, services, "DELETE", "/api/deals/{id}", "deals.archive", perm::deal_delete,
            "Archive a deal", [](request_scope& scope) {
              return record_command<deal_command>(scope, archive_deal{deal_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/deals/{id}/restore", "deals.restore", perm::deal_delete,
            "Restore an archived deal", [](request_scope& scope) {
              return record_command<deal_command>(scope, restore_deal{deal_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/deals/{id}/stage", "deals.move_stage", perm::deal_edit,
            "Move a deal to another stage of its pipeline", [](request_scope& scope) {
              const auto body = body_of(scope.request());
              const auto o = body.root();
              o.allow_only({"stage_id", "expected_version"});
              return record_command<deal_command>(
                  scope, move_deal_stage{deal_of(scope), read_id<stage_id>(o, "stage_id")},
                  expected_version(scope.request(), o));
            });
  add_route(routes, services, "POST", "/api/deals/{id}/win", "deals.win", perm::deal_edit,
            "Mark a deal won", [](request_scope& scope) {
              return record_command<deal_command>(scope, win_deal{deal_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/deals/{id}/lose", "deals.lose", perm::deal_edit,
            "Mark a deal lost, with the reason", [](request_scope& scope) {
              const auto body = body_of(scope.request());
              const auto o = body.root();
              o.allow_only({"reason", "expected_version"});
              return record_command<deal_command>(scope,
                                                  lose_deal{deal_of(scope), o.string("reason")},
                                                  expected_version(scope.request(), o));
            });
  add_route(routes, services, "POST", "/api/deals/{id}/reopen", "deals.reopen", perm::deal_edit,
            "Reopen a won or lost deal, in the stage it closed in or another",
            [](request_scope& scope) {
              const auto body = optional_body_of(scope.request());
              std::optional<stage_id> stage;
              std::optional<json_object> o;
              if (body) {
                o = body->root();
                o->allow_only({"stage_id", "expected_version"});
                stage = optional_id<stage_id>(*o, "stage_id");
              }
              return record_command<deal_command>(scope, reopen_deal{deal_of(scope), stage},
                                                  expected_version(scope.request(), o));
            });
  add_route(routes, services, "POST", "/api/deals/{id}/value", "deals.change_value",
            perm::deal_edit, "Change a deal's value (amount and currency)",
            [](request_scope& scope) {
              const auto body = body_of(scope.request());
              const auto o = body.root();
              o.allow_only({"value", "expected_version"});
              return record_command<deal_command>(
                  scope, change_deal_value{deal_of(scope), read_money(o, "value")},
                  expected_version(scope.request(), o));
            });
  add_route(routes, services, "POST", "/api/deals/{id}/owner", "deals.assign_owner",
            perm::deal_edit, "Give a deal to another owner", [](request_scope& scope) {
              const auto body = body_of(scope.request());
              const auto o = body.root();
              o.allow_only({"owner_id", "expected_version"});
              const auto owner = read_id<user_id>(o, "owner_id");
              ensure_visible<deal_aggregate>(scope, deal_of(scope).value);
              scope.check_owner(owner, "owner_id");
              return record_command<deal_command>(scope, assign_deal_owner{deal_of(scope), owner},
                                                  expected_version(scope.request(), o));
            });
  add_route(routes, services, "POST", "/api/deals/{id}/contacts", "deals.link_contact",
            perm::deal_edit, "Link a contact to a deal", [](request_scope& scope) {
              const auto body = body_of(scope.request());
              const auto o = body.root();
              o.allow_only({"contact_id", "expected_version"});
              const auto contact = read_id<contact_id>(o, "contact_id");
              ensure_visible<deal_aggregate>(scope, deal_of(scope).value);
              check_linked(scope, entity_kind::contact, contact.value, "contact_id");
              return record_command<deal_command>(scope, link_deal_contact{deal_of(scope), contact},
                                                  expected_version(scope.request(), o));
            });
  add_route(
      routes, services, "DELETE", "/api/deals/{id}/contacts/{contact_id}", "deals.unlink_contact",
      perm::deal_edit, "Unlink a contact from a deal", [](request_scope& scope) {
        const contact_id contact{std::string(scope.request().path_param("contact_id"))};
        return record_command<deal_command>(scope, unlink_deal_contact{deal_of(scope), contact},
                                            bodyless_expected_version(scope.request()));
      });
  add_route(routes, services, "PUT", "/api/deals/{id}/company", "deals.link_company",
            perm::deal_edit, "Link a deal to a company", [](request_scope& scope) {
              const auto body = body_of(scope.request());
              const auto o = body.root();
              o.allow_only({"company_id", "expected_version"});
              const auto company = read_id<company_id>(o, "company_id");
              ensure_visible<deal_aggregate>(scope, deal_of(scope).value);
              check_linked(scope, entity_kind::company, company.value, "company_id");
              return record_command<deal_command>(scope, link_deal_company{deal_of(scope), company},
                                                  expected_version(scope.request(), o));
            });
  add_route(routes, services, "DELETE", "/api/deals/{id}/company", "deals.unlink_company",
            perm::deal_edit, "Unlink a deal from its company", [](request_scope& scope) {
              return record_command<deal_command>(scope, unlink_deal_company{deal_of(scope)},
                                                  bodyless_expected_version(scope.request()));
            });
}

}  // namespace realmkit::api::crm

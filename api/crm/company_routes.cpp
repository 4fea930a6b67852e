// /api/companies: the organizations the sales team sells to.
#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

company_id company_of(const request_scope& scope) {
  return company_id{path_id(scope.request())};
}

postal_address read_address(const json_object& o, std::string_view name) {
  const auto a = o.object(name);
  a.allow_only({"street", "city", "region", "postal_code", "country"});
  postal_address out;
  out.street = a.optional_string("street").value_or("");
  out.city = a.optional_string("city").value_or("");
  out.region = a.optional_string("region").value_or("");
  out.postal_code = a.optional_string("postal_code").value_or("");
  out.country = a.optional_string("country").value_or("");
  return out;
}

http_response create(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"name", "domain", "industry", "size", "phone", "address", "owner_id", "tags"});
  create_company c;
  c.company = company_id{scope.services().new_id()};
  c.name = o.string("name");
  c.domain = o.optional_string("domain").value_or("");
  c.industry = o.optional_string("industry").value_or("");
  c.size = optional_enum<company_size>(o, "size").value_or(company_size::unknown);
  c.phone = o.optional_string("phone").value_or("");
  if (o.has("address") && !o.is_null("address")) c.address = read_address(o, "address");
  c.owner = optional_id<user_id>(o, "owner_id").value_or(scope.caller_id());
  scope.check_owner(*c.owner, "owner_id");
  c.tags = o.optional_strings("tags", rules::kMaxTags + 1).value_or(std::vector<std::string>{});
  return created_reply(
      commands::execute(scope.services().handler, company_command{c}, scope.metadata()),
      "/api/companies/");
}

http_response update(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"name", "domain", "industry", "size", "phone", "address", "expected_version"});
  update_company c;
  c.company = company_of(scope);
  c.name = o.optional_string("name");
  c.domain = o.optional_string("domain");
  c.industry = o.optional_string("industry");
  c.size = optional_enum<company_size>(o, "size");
  c.phone = o.optional_string("phone");
  if (o.has("address") && !o.is_null("address")) c.address = read_address(o, "address");
  std::vector<company_command> commands;
  if (c.name || c.domain || c.industry || c.size || c.phone || c.address) commands.push_back(c);
  return command_reply(execute_on_record(scope, commands, expected_version(scope.request(), o)));
}

http_response tags(request_scope& scope, bool add) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"tags", "expected_version"});
  auto list = o.strings("tags", rules::kMaxTags + 1);
  company_command command =
      add ? company_command{tag_company{company_of(scope), std::move(list)}}
          : company_command{untag_company{company_of(scope), std::move(list)}};
  return record_command<company_command>(scope, std::move(command),
                                         expected_version(scope.request(), o));
}

}  // namespace

void add_company_routes(router& routes, crm_services& services) {
  add_route(routes, services, "GET", "/api/companies", "companies.list", perm::company_view,
            "List companies (filters: owner, team, updated_since)", [](request_scope& scope) {
              await_min_position(scope);
              const auto q = list_params(scope, {"owner", "team", "updated_since"}, true);
              return list_reply(scope.services().queries.list_companies(q));
            });
  add_route(routes, services, "POST", "/api/companies", "companies.create", perm::company_edit,
            "Create a company", create);
  add_route(routes, services, "GET", "/api/companies/{id}", "companies.get", perm::company_view,
            "Get a company", [](request_scope& scope) {
              await_min_position(scope);
              const auto id = path_id(scope.request());
              return view_reply(
                  scope,
                  visible_or_404(scope, scope.services().queries.find_company(id), "company"));
            });
  add_route(routes, services, "PATCH", "/api/companies/{id}", "companies.update",
            perm::company_edit, "Change a company's details", update);
  add_route(routes, services, "DELETE", "/api/companies/{id}", "companies.archive",
            perm::company_edit, "Archive a company", [](request_scope& scope) {
              return record_command<company_command>(scope, archive_company{company_of(scope)},
                                                     bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/companies/{id}/restore", "companies.restore",
            perm::company_edit, "Restore an archived company", [](request_scope& scope) {
              return record_command<company_command>(scope, restore_company{company_of(scope)},
                                                     bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/companies/{id}/owner", "companies.assign_owner",
            perm::company_edit, "Give a company to another owner", [](request_scope& scope) {
              const auto body = body_of(scope.request());
              const auto o = body.root();
              o.allow_only({"owner_id", "expected_version"});
              const auto owner = read_id<user_id>(o, "owner_id");
              ensure_visible<company_aggregate>(scope, company_of(scope).value);
              scope.check_owner(owner, "owner_id");
              return record_command<company_command>(scope,
                                                     assign_company_owner{company_of(scope), owner},
                                                     expected_version(scope.request(), o));
            });
  add_route(routes, services, "POST", "/api/companies/{id}/tags", "companies.tag",
            perm::company_edit, "Add tags to a company",
            [](request_scope& scope) { return tags(scope, true); });
  add_route(routes, services, "POST", "/api/companies/{id}/tags/remove", "companies.untag",
            perm::company_edit, "Remove tags from a company",
            [](request_scope& scope) { return tags(scope, false); });
}

}  // namespace realmkit::api::crm

// /api/contacts: people, with their addresses, numbers, tags and consent, and the merge of
// duplicates.
#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;
using perm = auth::permission;

contact_id contact_of(const request_scope& scope) {
  return contact_id{path_id(scope.request())};
}

http_response create(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"first_name", "last_name", "emails", "phones", "company_id", "title", "owner_id",
                "tags", "force"});
  create_contact c;
  c.contact = contact_id{scope.services().new_id()};
  c.first_name = o.optional_string("first_name").value_or("");
  c.last_name = o.string("last_name");
  if (auto emails = o.optional_array("emails", kMaxContactEmails + 1)) {
    for (std::size_t i = 0; i < emails->size(); ++i) {
      const auto e = emails->object(i);
      e.allow_only({"address", "primary"});
      c.emails.push_back({e.string("address"), e.optional_boolean("primary").value_or(false)});
    }
  }
  if (auto phones = o.optional_array("phones", kMaxContactPhones + 1)) {
    for (std::size_t i = 0; i < phones->size(); ++i) {
      const auto p = phones->object(i);
      p.allow_only({"number", "label"});
      c.phones.push_back({p.string("number"),
                          optional_enum<phone_label>(p, "label").value_or(phone_label::other)});
    }
  }
  c.company = optional_id<company_id>(o, "company_id");
  if (c.company) check_linked(scope, entity_kind::company, c.company->value, "company_id");
  c.title = o.optional_string("title").value_or("");
  c.owner = optional_id<user_id>(o, "owner_id").value_or(scope.caller_id());
  scope.check_owner(*c.owner, "owner_id");
  c.tags = o.optional_strings("tags", rules::kMaxTags + 1).value_or(std::vector<std::string>{});
  if (!o.optional_boolean("force").value_or(false)) check_new_contact(scope, c);
  return created_reply(
      commands::execute(scope.services().handler, contact_command{c}, scope.metadata()),
      "/api/contacts/");
}

http_response update(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"first_name", "last_name", "title", "company_id", "expected_version"});
  const auto id = contact_of(scope);
  std::vector<contact_command> commands;
  update_contact u{id, o.optional_string("first_name"), o.optional_string("last_name"),
                   o.optional_string("title")};
  if (u.first_name || u.last_name || u.title) commands.push_back(u);
  if (o.has("company_id")) {
    const auto company = optional_id<company_id>(o, "company_id");
    ensure_visible<contact_aggregate>(scope, id.value);
    if (company) check_linked(scope, entity_kind::company, company->value, "company_id");
    commands.push_back(change_contact_company{id, company});
  }
  return command_reply(execute_on_record(scope, commands, expected_version(scope.request(), o)));
}

http_response merge(request_scope& scope) {
  const auto body = body_of(scope.request());
  const auto o = body.root();
  o.allow_only({"duplicate_ids", "expected_version"});
  merge_contacts command;
  command.survivor = contact_of(scope);
  command.duplicates = read_ids<contact_id>(o, "duplicate_ids", kMaxMergeDuplicates + 1);
  auto outcome = commands::merge_contacts(scope.services().handler, command, scope.metadata(),
                                          expected_version(scope.request(), o),
                                          scope.visible<contact_state>());
  if (!outcome.ok() && outcome.error().field.starts_with("duplicates")) {
    // The domain names the duplicates "duplicates/<i>"; the request calls them duplicate_ids.
    auto r = outcome.error();
    r.field = "duplicate_ids" + r.field.substr(std::string_view("duplicates").size());
    outcome = commands::outcome(std::move(r));
  }
  return command_reply(outcome);
}

}  // namespace

void add_contact_routes(router& routes, crm_services& services) {
  add_route(routes, services, "GET", "/api/contacts", "contacts.list", perm::contact_view,
            "List contacts (filters: owner, team, updated_since)", [](request_scope& scope) {
              await_min_position(scope);
              const auto q = list_params(scope, {"owner", "team", "updated_since"}, true);
              return list_reply(scope.services().queries.list_contacts(q));
            });
  add_route(routes, services, "POST", "/api/contacts", "contacts.create", perm::contact_edit,
            "Create a contact", create);
  add_route(routes, services, "GET", "/api/contacts/{id}", "contacts.get", perm::contact_view,
            "Get a contact", [](request_scope& scope) {
              await_min_position(scope);
              const auto id = path_id(scope.request());
              return view_reply(
                  scope,
                  visible_or_404(scope, scope.services().queries.find_contact(id), "contact"));
            });
  add_route(routes, services, "PATCH", "/api/contacts/{id}", "contacts.update", perm::contact_edit,
            "Change a contact's name, title or company", update);
  add_route(routes, services, "DELETE", "/api/contacts/{id}", "contacts.archive",
            perm::contact_delete, "Archive a contact", [](request_scope& scope) {
              return record_command<contact_command>(scope, archive_contact{contact_of(scope)},
                                                     bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/restore", "contacts.restore",
            perm::contact_delete, "Restore an archived contact", [](request_scope& scope) {
              return record_command<contact_command>(scope, restore_contact{contact_of(scope)},
                                                     bodyless_expected_version(scope.request()));
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/owner", "contacts.assign_owner",
            perm::contact_edit, "Give a contact to another owner", [](request_scope& scope) {
              return body_command<contact_command>(scope, {"owner_id"}, [&](const json_object& o) {
                const auto owner = read_id<user_id>(o, "owner_id");
                ensure_visible<contact_aggregate>(scope, contact_of(scope).value);
                scope.check_owner(owner, "owner_id");
                return assign_contact_owner{contact_of(scope), owner};
              });
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/tags", "contacts.tag", perm::contact_edit,
            "Add tags to a contact", [](request_scope& scope) {
              return body_command<contact_command>(scope, {"tags"}, [&](const json_object& o) {
                return tag_contact{contact_of(scope), o.strings("tags", rules::kMaxTags + 1)};
              });
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/tags/remove", "contacts.untag",
            perm::contact_edit, "Remove tags from a contact", [](request_scope& scope) {
              return body_command<contact_command>(scope, {"tags"}, [&](const json_object& o) {
                return untag_contact{contact_of(scope), o.strings("tags", rules::kMaxTags + 1)};
              });
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/emails", "contacts.add_email",
            perm::contact_edit, "Add an e-mail address to a contact", [](request_scope& scope) {
              return body_command<contact_command>(
                  scope, {"address", "primary"}, [&](const json_object& o) {
                    return add_contact_email{contact_of(scope), o.string("address"),
                                             o.optional_boolean("primary").value_or(false)};
                  });
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/emails/remove", "contacts.remove_email",
            perm::contact_edit, "Remove an e-mail address of a contact", [](request_scope& scope) {
              return body_command<contact_command>(scope, {"address"}, [&](const json_object& o) {
                return remove_contact_email{contact_of(scope), o.string("address")};
              });
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/emails/primary",
            "contacts.set_primary_email", perm::contact_edit,
            "Make one of a contact's addresses the primary one", [](request_scope& scope) {
              return body_command<contact_command>(scope, {"address"}, [&](const json_object& o) {
                return set_primary_contact_email{contact_of(scope), o.string("address")};
              });
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/phones", "contacts.add_phone",
            perm::contact_edit, "Add a phone number to a contact", [](request_scope& scope) {
              return body_command<contact_command>(
                  scope, {"number", "label"}, [&](const json_object& o) {
                    return add_contact_phone{
                        contact_of(scope), o.string("number"),
                        optional_enum<phone_label>(o, "label").value_or(phone_label::other)};
                  });
            });
  add_route(routes, services, "POST", "/api/contacts/{id}/phones/remove", "contacts.remove_phone",
            perm::contact_edit, "Remove a phone number of a contact", [](request_scope& scope) {
              return body_command<contact_command>(scope, {"number"}, [&](const json_object& o) {
                return remove_contact_phone{contact_of(scope), o.string("number")};
              });
            });
  add_route(
      routes, services, "POST", "/api/contacts/{id}/consents", "contacts.consent",
      perm::contact_edit, "Record a contact giving or withdrawing consent on a channel",
      [](request_scope& scope) {
        return body_command<contact_command>(
            scope, {"channel", "granted", "at", "source"},
            [&](const json_object& o) -> contact_command {
              const auto channel = read_enum<consent_channel>(o, "channel");
              const auto at = optional_time(o, "at");
              auto source = o.optional_string("source").value_or("");
              if (o.boolean("granted")) {
                return give_contact_consent{contact_of(scope), channel, at, std::move(source)};
              }
              return withdraw_contact_consent{contact_of(scope), channel, at, std::move(source)};
            });
      });
  add_route(routes, services, "POST", "/api/contacts/{id}/merge", "contacts.merge",
            perm::contact_edit, "Merge duplicate contacts into this one", merge);
}

}  // namespace realmkit::api::crm

#include "commands/crm_commands.hpp"

namespace realmkit::commands {
namespace {

using domain::rejection;

// Runs a command of an aggregate whose decide needs nothing but its own state.
template <class Aggregate, class Command>
outcome execute_plain(command_handler& handler, const Command& command,
                      const command_metadata& meta, std::optional<std::int64_t> expected_version,
                      std::string_view aggregate_id) {
  return handler.execute<Aggregate>(aggregate_id, meta, expected_version,
                                    [&](const typename Aggregate::state& state) {
                                      return domain::decide(command, state, meta.context());
                                    });
}

// A prefix of rejection fields, so a rejection inside a composed command names the part at fault.
rejection nested(std::string prefix, rejection r) {
  r.field = r.field.empty() ? std::move(prefix) : prefix + "." + r.field;
  return r;
}

// Splits a lead's single name into a contact's first and last names: the last word is the
// family name, a single word is the family name alone.
std::pair<std::string, std::string> split_name(const std::string& name) {
  const auto trimmed = domain::rules::trimmed(name);
  const auto space = trimmed.find_last_of(' ');
  if (space == std::string::npos) return {"", trimmed};
  return {domain::rules::trimmed(trimmed.substr(0, space)), trimmed.substr(space + 1)};
}

}  // namespace

outcome execute(command_handler& handler, const domain::user_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const auto& id =
      std::visit([](const auto& c) -> const std::string& { return c.user.value; }, command);
  return execute_plain<domain::user_aggregate>(handler, command, meta, expected_version, id);
}

outcome execute(command_handler& handler, const domain::team_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const auto& id =
      std::visit([](const auto& c) -> const std::string& { return c.team.value; }, command);
  return execute_plain<domain::team_aggregate>(handler, command, meta, expected_version, id);
}

outcome execute(command_handler& handler, const domain::company_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const auto& id =
      std::visit([](const auto& c) -> const std::string& { return c.company.value; }, command);
  return execute_plain<domain::company_aggregate>(handler, command, meta, expected_version, id);
}

outcome execute(command_handler& handler, const domain::contact_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const auto& id =
      std::visit([](const auto& c) -> const std::string& { return c.contact.value; }, command);
  return execute_plain<domain::contact_aggregate>(handler, command, meta, expected_version, id);
}

outcome execute(command_handler& handler, const domain::lead_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const auto& id =
      std::visit([](const auto& c) -> const std::string& { return c.lead.value; }, command);
  return execute_plain<domain::lead_aggregate>(handler, command, meta, expected_version, id);
}

outcome execute(command_handler& handler, const domain::pipeline_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const auto& id =
      std::visit([](const auto& c) -> const std::string& { return c.pipeline.value; }, command);
  return execute_plain<domain::pipeline_aggregate>(handler, command, meta, expected_version, id);
}

outcome execute(command_handler& handler, const domain::activity_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const auto& id =
      std::visit([](const auto& c) -> const std::string& { return c.activity.value; }, command);
  return execute_plain<domain::activity_aggregate>(handler, command, meta, expected_version, id);
}

outcome execute(command_handler& handler, const domain::task_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const auto& id =
      std::visit([](const auto& c) -> const std::string& { return c.task.value; }, command);
  return execute_plain<domain::task_aggregate>(handler, command, meta, expected_version, id);
}

outcome execute(command_handler& handler, const domain::deal_command& command,
                const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  const std::string id =
      std::visit([](const auto& c) -> const std::string& { return c.deal.value; }, command);
  return handler.run(meta, [&](unit_of_work& uow) -> std::optional<rejection> {
    const auto& deal = uow.load<domain::deal_aggregate>(id);
    if (expected_version) {
      uow.expect(stream_id_of<domain::deal_aggregate>(id), *expected_version);
    }
    const auto pipeline_id = domain::pipeline_for(command, deal.state);
    domain::pipeline_state pipeline;
    if (!pipeline_id.empty()) {
      if (auto r = domain::rules::check_id("pipeline_id", pipeline_id.value)) return *r;
      pipeline = uow.load<domain::pipeline_aggregate>(pipeline_id.value).state;
    }
    auto d = domain::decide(command, deal.state, pipeline, meta.context());
    if (!d.ok()) return d.error();
    if (!d.events().empty()) uow.record<domain::deal_aggregate>(id, std::move(d.events()));
    return std::nullopt;
  });
}

outcome merge_contacts(command_handler& handler, const domain::merge_contacts& command,
                       const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  return handler.run(meta, [&](unit_of_work& uow) -> std::optional<rejection> {
    if (auto r = domain::rules::check_id("contact_id", command.survivor.value)) return *r;
    const auto& survivor = uow.load<domain::contact_aggregate>(command.survivor.value);
    if (expected_version) {
      uow.expect(stream_id_of<domain::contact_aggregate>(command.survivor.value),
                 *expected_version);
    }
    std::vector<domain::contact_state> duplicates;
    for (std::size_t i = 0; i < command.duplicates.size(); ++i) {
      const auto& id = command.duplicates[i].value;
      if (auto r = domain::rules::check_id("duplicate_ids/" + std::to_string(i), id)) return *r;
      duplicates.push_back(uow.load<domain::contact_aggregate>(id).state);
      // A duplicate not found keeps its id so the merge decision can name it.
      if (!duplicates.back().exists) duplicates.back().id = command.duplicates[i];
    }
    auto d = domain::decide_merge(survivor.state, duplicates, meta.context());
    if (!d.ok()) return d.error();
    if (d.events().empty()) return std::nullopt;
    uow.record<domain::contact_aggregate>(command.survivor.value, std::move(d.events()));
    for (const auto& duplicate : duplicates) {
      uow.record<domain::contact_aggregate>(duplicate.id.value,
                                            {domain::merged_into(duplicate, command.survivor)});
    }
    return std::nullopt;
  });
}

outcome convert_lead(command_handler& handler, const convert_lead_request& request,
                     const command_metadata& meta, std::optional<std::int64_t> expected_version) {
  return handler.run(meta, [&](unit_of_work& uow) -> std::optional<rejection> {
    if (auto r = domain::rules::check_id("lead_id", request.lead.value)) return *r;
    const auto& lead = uow.load<domain::lead_aggregate>(request.lead.value);
    if (expected_version) {
      uow.expect(stream_id_of<domain::lead_aggregate>(request.lead.value), *expected_version);
    }
    const domain::lead_state lead_before = lead.state;
    auto converted = domain::decide(
        domain::lead_command{domain::convert_lead{
            request.lead, request.contact, request.company,
            request.deal ? std::optional<domain::deal_id>(request.deal->deal) : std::nullopt}},
        lead_before, meta.context());
    if (!converted.ok()) return converted.error();
    const auto owner = request.owner ? *request.owner : lead_before.owner;

    if (request.company) {
      if (lead_before.company_name.empty()) {
        return domain::invalid("company_id", "the lead names no company to create");
      }
      if (auto r = domain::rules::check_id("company_id", request.company->value)) return *r;
      const auto& company = uow.load<domain::company_aggregate>(request.company->value);
      domain::create_company create;
      create.company = *request.company;
      create.name = lead_before.company_name;
      create.owner = owner;
      auto d = domain::decide(domain::company_command{create}, company.state, meta.context());
      if (!d.ok()) return nested("company", d.error());
      uow.record<domain::company_aggregate>(request.company->value, std::move(d.events()));
    }

    {
      if (auto r = domain::rules::check_id("contact_id", request.contact.value)) return *r;
      const auto& contact = uow.load<domain::contact_aggregate>(request.contact.value);
      domain::create_contact create;
      create.contact = request.contact;
      std::tie(create.first_name, create.last_name) = split_name(lead_before.name);
      if (!lead_before.email.empty()) create.emails.push_back({lead_before.email, true});
      if (!lead_before.phone.empty()) create.phones.push_back({lead_before.phone, {}});
      create.company = request.company;
      create.owner = owner;
      auto d = domain::decide(domain::contact_command{create}, contact.state, meta.context());
      if (!d.ok()) return nested("contact", d.error());
      uow.record<domain::contact_aggregate>(request.contact.value, std::move(d.events()));
    }

    if (request.deal) {
      const auto& part = *request.deal;
      if (auto r = domain::rules::check_id("deal.id", part.deal.value)) return *r;
      if (auto r = domain::rules::check_id("deal.pipeline_id", part.pipeline.value)) return *r;
      const auto& deal = uow.load<domain::deal_aggregate>(part.deal.value);
      const auto& pipeline = uow.load<domain::pipeline_aggregate>(part.pipeline.value);
      domain::create_deal create;
      create.deal = part.deal;
      create.pipeline = part.pipeline;
      create.stage = part.stage;
      create.title = part.title.empty() ? lead_before.name : part.title;
      create.value = part.value;
      create.owner = owner;
      create.company = request.company;
      create.contacts = {request.contact};
      create.expected_close_date = part.expected_close_date;
      auto d =
          domain::decide(domain::deal_command{create}, deal.state, pipeline.state, meta.context());
      if (!d.ok()) return nested("deal", d.error());
      uow.record<domain::deal_aggregate>(part.deal.value, std::move(d.events()));
    }

    uow.record<domain::lead_aggregate>(request.lead.value, std::move(converted.events()));
    return std::nullopt;
  });
}

}  // namespace realmkit::commands

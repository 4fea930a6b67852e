#include "commands/crm_commands.hpp"

#include "commands/email_reservation.hpp"

namespace realmkit::commands {
namespace {

using domain::rejection;

// A prefix of rejection fields, so a rejection inside a composed command names the part at fault.
rejection nested(std::string prefix, rejection r) {
  r.field = r.field.empty() ? std::move(prefix) : prefix + "." + r.field;
  return r;
}

// A rejection of another aggregate than the one the request names, blamed on the input that
// brought it in: a missing team is an invalid team_id of the user's request, not a 404 of the
// user.
rejection blamed_on(std::string field, rejection r) {
  if (r.code == domain::rejection_code::not_found) r.code = domain::rejection_code::invalid;
  r.field = std::move(field);
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

// The id of the aggregate a command names (every command struct carries it under the
// aggregate's name).
std::string id_of(const domain::user_command& c) {
  return std::visit([](const auto& x) { return x.user.value; }, c);
}
std::string id_of(const domain::team_command& c) {
  return std::visit([](const auto& x) { return x.team.value; }, c);
}
std::string id_of(const domain::company_command& c) {
  return std::visit([](const auto& x) { return x.company.value; }, c);
}
std::string id_of(const domain::contact_command& c) {
  return std::visit([](const auto& x) { return x.contact.value; }, c);
}
std::string id_of(const domain::lead_command& c) {
  return std::visit([](const auto& x) { return x.lead.value; }, c);
}
std::string id_of(const domain::pipeline_command& c) {
  return std::visit([](const auto& x) { return x.pipeline.value; }, c);
}
std::string id_of(const domain::deal_command& c) {
  return std::visit([](const auto& x) { return x.deal.value; }, c);
}
std::string id_of(const domain::activity_command& c) {
  return std::visit([](const auto& x) { return x.activity.value; }, c);
}
std::string id_of(const domain::task_command& c) {
  return std::visit([](const auto& x) { return x.task.value; }, c);
}

// ---- deciding one command inside a unit of work ----

// Aggregates whose decide needs nothing but their own state.
template <class Command>
std::optional<rejection> decide_in(unit_of_work& uow, const Command& command) {
  using aggregate = typename aggregate_for<Command>::type;
  const auto id = id_of(command);
  const auto& current = uow.load<aggregate>(id);
  auto d = domain::decide(command, current.state, uow.metadata().context());
  if (!d.ok()) return d.error();
  if (!d.events().empty()) uow.record<aggregate>(id, std::move(d.events()));
  return std::nullopt;
}

// A deal's decision also needs its pipeline (read, not locked).
std::optional<rejection> decide_in(unit_of_work& uow, const domain::deal_command& command) {
  const auto id = id_of(command);
  const auto& deal = uow.load<domain::deal_aggregate>(id);
  const auto pipeline_id = domain::pipeline_for(command, deal.state);
  domain::pipeline_state pipeline;
  if (!pipeline_id.empty()) {
    if (auto r = domain::rules::check_id("pipeline_id", pipeline_id.value)) return *r;
    pipeline = uow.load<domain::pipeline_aggregate>(pipeline_id.value).state;
  }
  auto d = domain::decide(command, deal.state, pipeline, uow.metadata().context());
  if (!d.ok()) return d.error();
  if (!d.events().empty()) uow.record<domain::deal_aggregate>(id, std::move(d.events()));
  return std::nullopt;
}

// ---- users and teams in step ----

std::optional<rejection> reserve_email(unit_of_work& uow, const std::string& email,
                                       const domain::user_id& user) {
  const auto id = email_reservation_id(email);
  const auto& reservation = uow.load<user_email_aggregate>(id);
  if (reservation.state.holder == user) return std::nullopt;
  if (reservation.state.holder) {
    return rejection{domain::rejection_code::already_exists, "email",
                     "another user has this e-mail address"};
  }
  uow.record<user_email_aggregate>(id, {user_email_reserved{user}});
  return std::nullopt;
}

void release_email(unit_of_work& uow, const std::string& email, const domain::user_id& user) {
  const auto id = email_reservation_id(email);
  const auto& reservation = uow.load<user_email_aggregate>(id);
  if (reservation.state.holder == user) {
    uow.record<user_email_aggregate>(id, {user_email_released{user}});
  }
}

// The team side of a user joining `team`: refuses a team that is missing or archived.
std::optional<rejection> join_team(unit_of_work& uow, const domain::team_id& team,
                                   const domain::user_id& user) {
  const auto& state = uow.load<domain::team_aggregate>(team.value);
  auto d = domain::decide(domain::team_command{domain::add_team_member{team, user}}, state.state,
                          uow.metadata().context());
  if (!d.ok()) return blamed_on("team_id", d.error());
  if (!d.events().empty()) uow.record<domain::team_aggregate>(team.value, std::move(d.events()));
  return std::nullopt;
}

// The team side of a user leaving `team`. A team that no longer lists the user, or was archived,
// has nothing to change.
void leave_team(unit_of_work& uow, const domain::team_id& team, const domain::user_id& user) {
  const auto& state = uow.load<domain::team_aggregate>(team.value);
  if (!state.state.exists || state.state.archived || !state.state.is_member(user)) return;
  auto d = domain::decide(domain::team_command{domain::remove_team_member{team, user}}, state.state,
                          uow.metadata().context());
  if (d.ok() && !d.events().empty()) {
    uow.record<domain::team_aggregate>(team.value, std::move(d.events()));
  }
}

std::optional<rejection> decide_in(unit_of_work& uow, const domain::user_command& command) {
  const auto id = id_of(command);
  const auto before = uow.load<domain::user_aggregate>(id).state;
  auto d = domain::decide(command, before, uow.metadata().context());
  if (!d.ok()) return d.error();
  if (d.events().empty()) return std::nullopt;
  const domain::user_id user{id};
  // The reservations are decided before the user's events are recorded, so a refused address
  // leaves the unit of work as it was.
  for (const auto& event : d.events()) {
    if (const auto* e = std::get_if<domain::user_registered>(&event)) {
      if (auto r = reserve_email(uow, e->email, user)) return r;
    } else if (const auto* e = std::get_if<domain::user_email_changed>(&event)) {
      if (auto r = reserve_email(uow, e->to, user)) return r;
      release_email(uow, e->from, user);
    }
  }
  for (const auto& event : d.events()) {
    if (const auto* e = std::get_if<domain::user_registered>(&event)) {
      if (e->team) {
        if (auto r = join_team(uow, *e->team, user)) return r;
      }
    } else if (const auto* e = std::get_if<domain::user_team_changed>(&event)) {
      if (e->from) leave_team(uow, *e->from, user);
      if (e->to) {
        if (auto r = join_team(uow, *e->to, user)) return r;
      }
    }
  }
  uow.record<domain::user_aggregate>(id, std::move(d.events()));
  return std::nullopt;
}

// The user side of a team gaining a member: the user leaves their previous team and joins this
// one. `field` names the input that brought the user in ("user_id" or "manager_id").
std::optional<rejection> move_user_into(unit_of_work& uow, const domain::team_id& team,
                                        const domain::user_id& user, const std::string& field) {
  const auto& state = uow.load<domain::user_aggregate>(user.value);
  if (!state.state.exists) {
    return rejection{domain::rejection_code::invalid, field, "is not a user"};
  }
  if (state.state.team == team) return std::nullopt;
  const auto previous = state.state.team;
  auto d = domain::decide(domain::user_command{domain::change_user_team{user, team}}, state.state,
                          uow.metadata().context());
  if (!d.ok()) return blamed_on(field, d.error());
  if (previous) leave_team(uow, *previous, user);
  uow.record<domain::user_aggregate>(user.value, std::move(d.events()));
  return std::nullopt;
}

std::optional<rejection> decide_in(unit_of_work& uow, const domain::team_command& command) {
  const auto id = id_of(command);
  const auto& team = uow.load<domain::team_aggregate>(id);
  auto d = domain::decide(command, team.state, uow.metadata().context());
  if (!d.ok()) return d.error();
  if (d.events().empty()) return std::nullopt;
  const bool by_manager = std::holds_alternative<domain::create_team>(command) ||
                          std::holds_alternative<domain::assign_team_manager>(command);
  const std::string field = by_manager ? "manager_id" : "user_id";
  auto events = d.events();
  uow.record<domain::team_aggregate>(id, std::move(d.events()));
  for (const auto& event : events) {
    if (const auto* e = std::get_if<domain::team_member_added>(&event)) {
      if (auto r = move_user_into(uow, e->team, e->user, field)) return r;
    } else if (const auto* e = std::get_if<domain::team_member_removed>(&event)) {
      const auto& user = uow.load<domain::user_aggregate>(e->user.value);
      // A consequence, not a decision: even a deactivated user stops being in the team.
      if (user.state.exists && user.state.team == e->team) {
        uow.record<domain::user_aggregate>(
            e->user.value, {domain::user_team_changed{e->user, e->team, std::nullopt}});
      }
    }
  }
  return std::nullopt;
}

}  // namespace

template <class Command>
outcome execute_all(command_handler& handler, const std::vector<Command>& commands,
                    const command_metadata& meta, std::optional<std::int64_t> expected_version,
                    const precondition<state_for<Command>>& check) {
  using aggregate = typename aggregate_for<Command>::type;
  if (commands.empty()) return outcome(domain::invalid("", "nothing to change"));
  const std::string id = id_of(commands.front());
  for (const auto& command : commands) {
    if (id_of(command) != id) {
      return outcome(domain::invalid("", "the commands name different aggregates"));
    }
  }
  return handler.run(meta, [&](unit_of_work& uow) -> std::optional<rejection> {
    const auto& current = uow.load<aggregate>(id);
    if (expected_version) uow.expect(stream_id_of<aggregate>(id), *expected_version);
    if (check) {
      if (auto r = check(current.state)) return r;
    }
    for (const auto& command : commands) {
      if (auto r = decide_in(uow, command)) return r;
    }
    return std::nullopt;
  });
}

#define REALMKIT_EXECUTE_ALL(Command)                                                         \
  template outcome execute_all<Command>(command_handler&, const std::vector<Command>&,        \
                                        const command_metadata&, std::optional<std::int64_t>, \
                                        const precondition<state_for<Command>>&);
REALMKIT_EXECUTE_ALL(domain::user_command)
REALMKIT_EXECUTE_ALL(domain::team_command)
REALMKIT_EXECUTE_ALL(domain::company_command)
REALMKIT_EXECUTE_ALL(domain::contact_command)
REALMKIT_EXECUTE_ALL(domain::lead_command)
REALMKIT_EXECUTE_ALL(domain::pipeline_command)
REALMKIT_EXECUTE_ALL(domain::deal_command)
REALMKIT_EXECUTE_ALL(domain::activity_command)
REALMKIT_EXECUTE_ALL(domain::task_command)
#undef REALMKIT_EXECUTE_ALL

outcome merge_contacts(command_handler& handler, const domain::merge_contacts& command,
                       const command_metadata& meta, std::optional<std::int64_t> expected_version,
                       const precondition<domain::contact_state>& check) {
  return handler.run(meta, [&](unit_of_work& uow) -> std::optional<rejection> {
    if (auto r = domain::rules::check_id("contact_id", command.survivor.value)) return *r;
    const auto& survivor = uow.load<domain::contact_aggregate>(command.survivor.value);
    if (expected_version) {
      uow.expect(stream_id_of<domain::contact_aggregate>(command.survivor.value),
                 *expected_version);
    }
    if (check) {
      if (auto r = check(survivor.state)) return r;
    }
    std::vector<domain::contact_state> duplicates;
    for (std::size_t i = 0; i < command.duplicates.size(); ++i) {
      const auto& id = command.duplicates[i].value;
      if (auto r = domain::rules::check_id("duplicate_ids/" + std::to_string(i), id)) return *r;
      duplicates.push_back(uow.load<domain::contact_aggregate>(id).state);
      if (check) {
        if (auto r = check(duplicates.back()))
          return nested("duplicate_ids/" + std::to_string(i), *r);
      }
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

outcome complete_task(command_handler& handler, const domain::task_id& task,
                      const command_metadata& meta, std::optional<std::int64_t> expected_version,
                      const precondition<domain::task_state>& check) {
  return handler.run(meta, [&](unit_of_work& uow) -> std::optional<rejection> {
    const auto& loaded = uow.load<domain::task_aggregate>(task.value);
    if (expected_version) {
      uow.expect(stream_id_of<domain::task_aggregate>(task.value), *expected_version);
    }
    if (check) {
      if (auto r = check(loaded.state)) return r;
    }
    auto d = domain::decide(domain::task_command{domain::complete_task{task}}, loaded.state,
                            meta.context());
    if (!d.ok()) return d.error();
    if (d.events().empty()) return std::nullopt;
    uow.record<domain::task_aggregate>(task.value, std::move(d.events()));
    const auto& completed = uow.load<domain::task_aggregate>(task.value).state;
    auto next = domain::next_occurrence(completed, meta.now);
    if (next.empty()) return std::nullopt;
    const auto next_id = domain::next_occurrence_id(completed);
    if (uow.load<domain::task_aggregate>(next_id.value).state.exists) return std::nullopt;
    uow.record<domain::task_aggregate>(next_id.value, std::move(next));
    return std::nullopt;
  });
}

outcome convert_lead(command_handler& handler, const convert_lead_request& request,
                     const command_metadata& meta, std::optional<std::int64_t> expected_version,
                     const precondition<domain::lead_state>& check) {
  return handler.run(meta, [&](unit_of_work& uow) -> std::optional<rejection> {
    if (auto r = domain::rules::check_id("lead_id", request.lead.value)) return *r;
    const auto& lead = uow.load<domain::lead_aggregate>(request.lead.value);
    if (expected_version) {
      uow.expect(stream_id_of<domain::lead_aggregate>(request.lead.value), *expected_version);
    }
    if (check) {
      if (auto r = check(lead.state)) return r;
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

#include "api/integrations/inbound_log.hpp"

#include <spdlog/spdlog.h>

#include "api/error_mapping.hpp"
#include "api/problem.hpp"
#include "commands/crm_commands.hpp"
#include "domain/contact/contact_matching.hpp"
#include "infra/crypto/mac.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::api::integrations {
namespace {

namespace sql = infra::sql;
using namespace std::chrono;

constexpr std::string_view kUnmatchedCursor = "unm1";

domain::activity_type activity_type_of(inbound_kind kind) {
  switch (kind) {
    case inbound_kind::email:
      return domain::activity_type::email;
    case inbound_kind::meeting:
      return domain::activity_type::meeting;
    case inbound_kind::call:
      return domain::activity_type::call;
    case inbound_kind::sms:
      return domain::activity_type::sms;
  }
  return domain::activity_type::note;
}

std::optional<inbound_kind> kind_from(std::string_view text) {
  for (auto k :
       {inbound_kind::email, inbound_kind::meeting, inbound_kind::sms, inbound_kind::call}) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

std::int64_t micros(domain::timestamp t) {
  return t.time_since_epoch().count();
}

domain::timestamp from_micros(std::int64_t us) {
  return domain::timestamp{microseconds{us}};
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out.push_back(' ');
    out += i;
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto space = text.find(' ', at);
    if (space != at) out.push_back(text.substr(at, space - at));
    if (space == std::string::npos) break;
    at = space + 1;
  }
  return out;
}

// The time the activity happened: the payload's, unless the domain would refuse it (before 2000,
// more than a year ahead: a provider's clock or a forged date), then when it was received.
domain::timestamp occurrence(const inbound_message& m, domain::timestamp now) {
  if (!m.occurred_at) return now;
  const auto at = *m.occurred_at;
  if (at < sys_days{year{2000} / January / 2} || at > now + days{365}) return now;
  return at;
}

void remember_unmatched(sql::session& db, std::string_view provider, const inbound_message& m,
                        domain::timestamp now) {
  std::vector<sql::value> params{std::string(provider),
                                 m.message_id,
                                 std::string(to_string(m.kind)),
                                 micros(now),
                                 m.occurred_at ? sql::value(micros(*m.occurred_at)) : sql::null(),
                                 joined(m.addresses),
                                 joined(m.phones),
                                 m.summary};
  db.execute(
      "INSERT INTO inbound_unmatched (provider, message_id, kind, received_at, occurred_at, "
      "addresses, phones, summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT "
      "(provider, message_id) DO NOTHING",
      params);
  // Kept no longer than needed: the rows name people who are nobody's contacts.
  const sql::value cutoff[] = {micros(now - kUnmatchedRetention)};
  db.execute("DELETE FROM inbound_unmatched WHERE received_at < $1", cutoff);
}

void forget_unmatched(sql::session& db, std::string_view provider, std::string_view message_id) {
  const sql::value params[] = {std::string(provider), std::string(message_id)};
  db.execute("DELETE FROM inbound_unmatched WHERE provider = $1 AND message_id = $2", params);
}

}  // namespace

std::string_view to_string(inbound_result result) {
  switch (result) {
    case inbound_result::logged:
      return "logged";
    case inbound_result::updated:
      return "updated";
    case inbound_result::duplicate:
      return "duplicate";
    case inbound_result::unmatched:
      return "unmatched";
  }
  return {};
}

std::string activity_id_for(std::string_view provider, std::string_view message_id) {
  std::string input(provider);
  input.push_back('\n');
  input.append(message_id);
  return "in-" + infra::crypto::sha256_hex(input).substr(0, 40);
}

std::string integration_actor(std::string_view provider) {
  return "integration-" + std::string(provider);
}

std::optional<matched_contact> match_contact(sql::session& db, const inbound_message& m) {
  std::vector<std::string> keys;
  for (const auto& a : m.addresses) {
    if (auto k = domain::email_match_key(a)) keys.push_back("e:" + *k);
  }
  for (const auto& p : m.phones) {
    if (auto k = domain::phone_match_key(p)) keys.push_back("p:" + *k);
  }
  for (const auto& key : keys) {
    const sql::value params[] = {key};
    const auto rows = db.query(
        "SELECT c.contact_id, c.owner_id FROM rm_contact_match_keys k JOIN rm_contact_match c ON "
        "c.contact_id = k.contact_id WHERE k.match_key = $1 AND c.active = 1 ORDER BY "
        "c.contact_id LIMIT 1",
        params);
    if (!rows.empty()) return matched_contact{rows.front().text(0), rows.front().text(1)};
  }
  return std::nullopt;
}

unmatched_page list_unmatched(sql::session& db, std::size_t limit,
                              std::optional<std::string_view> cursor) {
  std::vector<sql::value> params;
  std::string where;
  if (cursor) {
    const auto fields = projections::support::decode_cursor(kUnmatchedCursor, *cursor, 3);
    const auto at = fields ? projections::support::parse_int((*fields)[0]) : std::nullopt;
    if (!at) throw std::invalid_argument("not a cursor of this list");
    params = {*at, (*fields)[1], (*fields)[2]};
    where =
        " WHERE received_at < $1 OR (received_at = $1 AND (provider > $2 OR (provider = $2 "
        "AND message_id > $3)))";
  }
  params.emplace_back(static_cast<std::int64_t>(limit + 1));
  const auto rows = db.query(
      "SELECT provider, message_id, kind, received_at, occurred_at, addresses, phones, summary "
      "FROM inbound_unmatched" +
          where + " ORDER BY received_at DESC, provider, message_id LIMIT $" +
          std::to_string(params.size()),
      params);
  unmatched_page page;
  for (const auto& r : rows) {
    if (page.items.size() == limit) {
      const auto& last = page.items.back();
      page.next_cursor = projections::support::encode_cursor(
          kUnmatchedCursor,
          {std::to_string(micros(last.received_at)), last.provider, last.message_id});
      break;
    }
    unmatched_message u;
    u.provider = r.text(0);
    u.message_id = r.text(1);
    u.kind = kind_from(r.text(2)).value_or(inbound_kind::email);
    u.received_at = from_micros(r.integer(3));
    if (const auto at = r.optional_integer(4)) u.occurred_at = from_micros(*at);
    u.addresses = split(r.text(5));
    u.phones = split(r.text(6));
    u.summary = r.text(7);
    page.items.push_back(std::move(u));
  }
  return page;
}

inbound_log::inbound_log(commands::command_handler& handler, sql::database& read_db,
                         infra::metrics_registry* metrics)
    : handler_(handler), read_db_(read_db), metrics_(metrics) {}

void inbound_log::count(std::string_view provider, inbound_result result) {
  if (!metrics_) return;
  metrics_
      ->counter_for(
          "realmkit_inbound_messages_total", "Inbound messages by provider and what became of them",
          {{"provider", std::string(provider)}, {"outcome", std::string(to_string(result))}})
      .inc();
}

inbound_outcome inbound_log::record(std::string_view provider, const inbound_message& m,
                                    const inbound_context& context) {
  inbound_outcome out;
  out.message_id = m.message_id;
  const auto id = activity_id_for(provider, m.message_id);
  commands::command_metadata meta;
  meta.actor = domain::user_id{integration_actor(provider)};
  meta.now = context.now;
  meta.correlation_id = context.correlation_id;
  meta.ip = context.ip;

  const auto existing = handler_.load<domain::activity_aggregate>(id);
  if (existing.state.exists) {
    out.activity_id = id;
    out.contact_id = existing.state.subject.id;
    out.result = inbound_result::duplicate;
    // A canceled booking marks the meeting logged for it; deleted activities stay deleted.
    if (m.canceled && !existing.state.deleted && existing.state.summary != m.summary) {
      domain::edit_activity edit{domain::activity_id{id}, m.summary, m.body, std::nullopt,
                                 std::nullopt};
      const auto done = commands::execute(handler_, domain::activity_command{edit}, meta);
      if (!done.ok()) throw problem_error(problem_for(done.error(), done.current_version));
      out.result = inbound_result::updated;
      out.position = done.result().position;
    }
    count(provider, out.result);
    return out;
  }

  auto session = read_db_.acquire();
  const auto contact = match_contact(*session, m);
  if (!contact) {
    remember_unmatched(*session, provider, m, context.now);
    out.result = inbound_result::unmatched;
    count(provider, out.result);
    spdlog::info("inbound {} message {} matches no contact (request {})", provider, m.message_id,
                 context.correlation_id);
    return out;
  }

  domain::log_activity c;
  c.activity = domain::activity_id{id};
  c.type = activity_type_of(m.kind);
  c.subject = {domain::entity_kind::contact, contact->contact_id};
  c.summary = m.summary;
  c.body = m.body;
  c.occurred_at = occurrence(m, context.now);
  if (domain::has_duration(c.type)) c.duration_minutes = m.duration_minutes;
  c.owner = domain::user_id{contact->owner_id};
  const auto done = commands::execute(handler_, domain::activity_command{c}, meta);
  out.activity_id = id;
  out.contact_id = contact->contact_id;
  if (!done.ok()) {
    // Two deliveries of one message at once: the other one logged it.
    if (done.error().code != domain::rejection_code::already_exists) {
      throw problem_error(problem_for(done.error(), done.current_version));
    }
    out.result = inbound_result::duplicate;
  } else {
    out.result = inbound_result::logged;
    out.position = done.result().position;
    // Matched now, after an earlier delivery was not: no longer an admin's to look at.
    forget_unmatched(*session, provider, m.message_id);
  }
  count(provider, out.result);
  return out;
}

}  // namespace realmkit::api::integrations

// What becomes of a verified, parsed inbound message: the contact it concerns (by the duplicates
// read model's keys: the mailbox an address reaches, a number's national significant number), an
// activity on that contact's timeline, owned by the contact's owner and logged by the
// integration's own actor, or, when no contact matches, a row in inbound_unmatched that admins
// list. Logging is idempotent by the provider's message id: the activity's id is derived from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/integrations/integration_provider.hpp"
#include "commands/command_handler.hpp"
#include "infra/metrics.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::api::integrations {

enum class inbound_result {
  logged,     // a new activity
  updated,    // the activity of an earlier message changed (a canceled meeting)
  duplicate,  // already logged: nothing written
  unmatched,  // no contact has these addresses or numbers: kept in inbound_unmatched
};

std::string_view to_string(inbound_result result);

struct inbound_outcome {
  inbound_result result = inbound_result::logged;
  std::string message_id;
  std::string activity_id;    // logged, updated, duplicate
  std::string contact_id;     // logged, updated, duplicate
  std::int64_t position = 0;  // of the events written (0: none)
};

// The activity id a provider's message gets: "in-" and 40 hex digits of SHA-256 over the
// provider's name and the message id. The same message always gets the same id, two messages
// practically never share one, and it fits the ids' rules ([A-Za-z0-9_-], at most 64).
std::string activity_id_for(std::string_view provider, std::string_view message_id);

// The actor of what an integration records: "integration-<provider>".
std::string integration_actor(std::string_view provider);

// The contact `m` concerns: its addresses, then its numbers, each tried in order against the
// active contacts' keys; of several contacts sharing a key, the one with the least id.
struct matched_contact {
  std::string contact_id;
  std::string owner_id;
};
std::optional<matched_contact> match_contact(infra::sql::session& db, const inbound_message& m);

// One unmatched message as an admin sees it.
struct unmatched_message {
  std::string provider;
  std::string message_id;
  inbound_kind kind = inbound_kind::email;
  std::vector<std::string> addresses;
  std::vector<std::string> phones;
  std::string summary;
  domain::timestamp received_at{};
  std::optional<domain::timestamp> occurred_at;
};

struct unmatched_page {
  std::vector<unmatched_message> items;
  std::optional<std::string> next_cursor;
};

// Newest first; `cursor` from an earlier page. Throws std::invalid_argument for a bad cursor.
unmatched_page list_unmatched(infra::sql::session& db, std::size_t limit,
                              std::optional<std::string_view> cursor);

// How long unmatched messages are kept: they hold personal data of people who are no contacts.
inline constexpr std::chrono::hours kUnmatchedRetention{24 * 30};

struct inbound_context {
  domain::timestamp now{};
  std::string correlation_id;  // the request id
  std::string ip;
};

class inbound_log final {
 public:
  // `metrics` may be null.
  inbound_log(commands::command_handler& handler, infra::sql::database& read_db,
              infra::metrics_registry* metrics);

  // Records `m` from `provider`. A rejected command (which the providers' bounds should make
  // impossible) throws problem_error as the CRM routes answer it.
  inbound_outcome record(std::string_view provider, const inbound_message& m,
                         const inbound_context& context);

 private:
  void count(std::string_view provider, inbound_result result);

  commands::command_handler& handler_;
  infra::sql::database& read_db_;
  infra::metrics_registry* metrics_;
};

}  // namespace realmkit::api::integrations

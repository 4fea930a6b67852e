// The read side the CRM routes query: one entity's view by id, filtered and paginated lists, the
// account behind an e-mail address for login, and waiting for a global position (min_position).
// sql_directory implements it over the records read model (projections/records).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/activity/activity_state.hpp"
#include "domain/common/entity_ref.hpp"
#include "domain/company/company_state.hpp"
#include "domain/contact/contact_state.hpp"
#include "domain/deal/deal_state.hpp"
#include "domain/lead/lead_state.hpp"
#include "domain/pipeline/pipeline_state.hpp"
#include "domain/task/task_state.hpp"
#include "domain/team/team_state.hpp"
#include "domain/user/user_state.hpp"

namespace realmkit::api::crm {

// What every view carries besides its aggregate's state.
struct view_meta {
  std::string id;                  // the aggregate id (the stream id without its category)
  std::int64_t version = 0;        // the stream's version: the ETag and the If-Match to send
  std::int64_t position = 0;       // global position of the last event applied
  domain::timestamp created_at{};  // when the first event was recorded
  domain::timestamp updated_at{};  // when the last event was recorded
};

template <class State>
struct view {
  State state;
  view_meta meta;
};

using user_view = view<domain::user_state>;
using team_view = view<domain::team_state>;
using company_view = view<domain::company_state>;
using contact_view = view<domain::contact_state>;
using lead_view = view<domain::lead_state>;
using pipeline_view = view<domain::pipeline_state>;
using deal_view = view<domain::deal_state>;
using activity_view = view<domain::activity_state>;
using task_view = view<domain::task_state>;

// The user a team-owned record belongs to (a task's assignee): the team of that user decides who
// sees the record. nullptr for organisation-wide things (users, teams, pipelines).
inline const domain::user_id* owner_of(const domain::user_state&) {
  return nullptr;
}
inline const domain::user_id* owner_of(const domain::team_state&) {
  return nullptr;
}
inline const domain::user_id* owner_of(const domain::pipeline_state&) {
  return nullptr;
}
inline const domain::user_id* owner_of(const domain::company_state& s) {
  return &s.owner;
}
inline const domain::user_id* owner_of(const domain::contact_state& s) {
  return &s.owner;
}
inline const domain::user_id* owner_of(const domain::lead_state& s) {
  return &s.owner;
}
inline const domain::user_id* owner_of(const domain::deal_state& s) {
  return &s.owner;
}
inline const domain::user_id* owner_of(const domain::activity_state& s) {
  return &s.owner;
}
inline const domain::user_id* owner_of(const domain::task_state& s) {
  return &s.assignee;
}

// What login and authentication need of a user.
struct user_account {
  std::string user_id;
  std::string email;          // normalized
  std::string password_hash;  // argon2id PHC string; empty: no password set
  domain::user_role role = domain::user_role::sales_rep;
  std::optional<std::string> team_id;
  bool active = true;
};

enum class sort_field { created_at, updated_at, name, score };
std::string_view to_string(sort_field field);
bool from_string(std::string_view text, sort_field& out);

// Where a page ends: the sort key and id of its last item. Pages are keyset-paginated, so a
// cursor stays valid while records are added; it travels as opaque base64url text.
struct cursor {
  sort_field sort = sort_field::created_at;
  bool descending = false;
  // The last item's sort key: an instant as 20 zero-padded digits of microseconds, a name folded
  // (rules::folded); keys compare as text.
  std::string key;
  std::string id;

  bool operator==(const cursor&) const = default;
};
std::string encode_cursor(const cursor& c);
// nullopt for text encode_cursor did not write.
std::optional<cursor> decode_cursor(std::string_view text);

inline constexpr std::size_t kDefaultPageSize = 50;
inline constexpr std::size_t kMaxPageSize = 200;

// A list request. Filters that do not apply to an entity are refused by the route, never passed.
struct list_query {
  std::optional<std::string> owner;           // owner id (a task's assignee)
  std::optional<std::string> team;            // the owner's team (a user's own team, for users)
  std::optional<std::string> status;          // deal: open|won|lost, lead: its status, task:
                                              // open|done, user: active|inactive
  std::optional<std::string> stage;           // deals
  std::optional<std::string> pipeline;        // deals
  std::optional<domain::entity_ref> subject;  // activities and tasks about this record
  std::optional<domain::timestamp> updated_since;
  bool include_archived = false;   // archived, merged and deactivated records too (deleted never)
  bool without_open_task = false;  // deals: only those no open task is linked to
  sort_field sort = sort_field::created_at;
  bool descending = false;
  std::optional<cursor> after;
  std::size_t limit = kDefaultPageSize;
  // Record-level scope for team-owned records: when set, only records whose owner is in this
  // team (an empty inner value: none at all). Unset: every team.
  std::optional<std::optional<std::string>> only_team;
};

template <class View>
struct page {
  std::vector<View> items;
  std::optional<std::string> next_cursor;  // absent on the last page
  std::int64_t position = 0;               // the read side's position when the page was read
};

class crm_queries {
 public:
  virtual ~crm_queries() = default;

  // One record by id, whatever its state (archived, deleted, merged): routes decide what to show.
  virtual std::optional<user_view> find_user(std::string_view id) const = 0;
  virtual std::optional<team_view> find_team(std::string_view id) const = 0;
  virtual std::optional<company_view> find_company(std::string_view id) const = 0;
  virtual std::optional<contact_view> find_contact(std::string_view id) const = 0;
  virtual std::optional<lead_view> find_lead(std::string_view id) const = 0;
  virtual std::optional<pipeline_view> find_pipeline(std::string_view id) const = 0;
  virtual std::optional<deal_view> find_deal(std::string_view id) const = 0;
  virtual std::optional<activity_view> find_activity(std::string_view id) const = 0;
  virtual std::optional<task_view> find_task(std::string_view id) const = 0;

  virtual page<user_view> list_users(const list_query& q) const = 0;
  virtual page<team_view> list_teams(const list_query& q) const = 0;
  virtual page<company_view> list_companies(const list_query& q) const = 0;
  virtual page<contact_view> list_contacts(const list_query& q) const = 0;
  virtual page<lead_view> list_leads(const list_query& q) const = 0;
  virtual page<pipeline_view> list_pipelines(const list_query& q) const = 0;
  virtual page<deal_view> list_deals(const list_query& q) const = 0;
  virtual page<activity_view> list_activities(const list_query& q) const = 0;
  virtual page<task_view> list_tasks(const list_query& q) const = 0;

  // The account of a user by normalized e-mail address (login) or by id (token refresh).
  virtual std::optional<user_account> user_by_email(std::string_view email) const = 0;
  virtual std::optional<user_account> user_by_id(std::string_view id) const = 0;
  // The team a user is in; nullopt for no team or an unknown user.
  virtual std::optional<std::string> team_of(std::string_view user_id) const = 0;
  // Open, non-archived deals in a stage (before removing the stage).
  virtual std::int64_t open_deals_in_stage(std::string_view pipeline_id,
                                           std::string_view stage_id) const = 0;

  // The global position of the last event the read side has applied.
  virtual std::int64_t position() const = 0;
  // Blocks until position() >= `position` or the timeout passes; true when reached.
  virtual bool wait_for(std::int64_t position, std::chrono::milliseconds timeout) const = 0;
};

}  // namespace realmkit::api::crm

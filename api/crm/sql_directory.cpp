#include "api/crm/sql_directory.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <thread>
#include <type_traits>

#include "infra/event_codec.hpp"
#include "projections/projector.hpp"
#include "projections/records/records_schema.hpp"

namespace realmkit::api::crm {
namespace {

namespace sql = infra::sql;
namespace records = projections::records;
using namespace std::chrono_literals;

// The columns every record query reads, in this order; users add their password hash.
constexpr std::string_view kViewColumns =
    "r.id, r.version, r.position, r.created_at, r.updated_at, r.name_key, r.doc";

std::string from_clause(std::string_view relation) {
  if (relation == records::kUsers) {
    return " FROM rm_users r LEFT JOIN rm_user_credentials c ON c.user_id = r.id";
  }
  return " FROM " + sql::identifier(relation) + " r";
}

std::string select_clause(std::string_view relation) {
  std::string out = "SELECT " + std::string(kViewColumns);
  if (relation == records::kUsers) out += ", c.password_hash";
  return out + from_clause(relation);
}

domain::timestamp instant(std::int64_t us) {
  return domain::timestamp{std::chrono::microseconds{us}};
}

template <class State>
view<State> to_view(const sql::row& r) {
  view<State> v;
  v.meta.id = r.text(0);
  v.meta.version = r.integer(1);
  v.meta.position = r.integer(2);
  v.meta.created_at = instant(r.integer(3));
  v.meta.updated_at = instant(r.integer(4));
  v.state = infra::from_json<State>(r.text(6));
  if constexpr (std::is_same_v<State, domain::user_state>) v.state.password_hash = r.text(7);
  return v;
}

// Sort keys as cursors carry them: instants fixed-width, so that they compare as text in time
// order, names folded.
std::string time_key(std::int64_t us) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%020lld", static_cast<long long>(us));
  return buffer;
}

std::string_view sort_column(sort_field field) {
  switch (field) {
    case sort_field::created_at:
      return "created_at";
    case sort_field::updated_at:
      return "updated_at";
    case sort_field::name:
      return "name_key";
    case sort_field::score:
      // Unscored leads sort below a score of 0; the key stays a non-negative integer, so cursors
      // encode it as they do instants.
      return "(COALESCE(r.score, -1) + 1)";
  }
  return "created_at";
}

// Where a cursor's text key for an instant falls among the instants' keys (all of them 20 digits):
// exactly on one (an instant), or before every key from `at` on. `at` nullopt: after every key.
struct time_bound {
  std::optional<std::int64_t> at;
  bool exact = false;
};

time_bound bound_of(std::string_view key) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::size_t kWidth = 20;
  std::size_t digits = 0;
  while (digits < key.size() && digits < kWidth && key[digits] >= '0' && key[digits] <= '9') {
    ++digits;
  }
  // The value of the leading digits scaled to 20 places, saturating beyond the largest instant.
  bool over = false;
  std::int64_t value = 0;
  auto push = [&](int d) {
    if (over || value > (kMax - d) / 10) {
      over = true;
    } else {
      value = value * 10 + d;
    }
  };
  for (std::size_t i = 0; i < digits; ++i) push(key[i] - '0');
  if (digits == kWidth && key.size() == kWidth) {
    if (over) return {};
    return {value, true};
  }
  // A key that is no instant's: it sorts after the keys starting with its digits when it goes on
  // past 20 digits or with a character above '9'; otherwise before them.
  const bool after_prefix =
      digits == kWidth || (digits < key.size() && static_cast<unsigned char>(key[digits]) > '9');
  for (std::size_t i = digits; i < kWidth; ++i) push(0);
  if (after_prefix) {
    std::int64_t step = 1;
    for (std::size_t i = digits; i < kWidth; ++i) {
      if (step > kMax / 10) {
        over = true;
        break;
      }
      step *= 10;
    }
    if (!over && value > kMax - step) over = true;
    if (!over) value += step;
  }
  if (over) return {};
  return {value, false};
}

// Builds a statement and its parameters; the text depends only on which filters are present, so
// each shape is prepared once per session.
class statement {
 public:
  std::string sql;
  std::vector<sql::value> params;

  std::string param(sql::value v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  }
  void where(const std::string& condition) {
    sql += first_ ? " WHERE " : " AND ";
    sql += condition;
    first_ = false;
  }

 private:
  bool first_ = true;
};

}  // namespace

sql_directory::sql_directory(sql::database& db, const projections::projector* projector)
    : db_(db), projector_(projector) {}

std::int64_t sql_directory::position() const {
  if (projector_) return projector_->position(records::kProjectionName);
  auto session = db_.acquire();
  const sql::value params[] = {std::string(records::kProjectionName)};
  const auto rows = session->query(
      "SELECT position FROM projection_generations WHERE projection = $1 AND state = 'live'",
      params);
  return rows.empty() ? 0 : rows.front().integer(0);
}

bool sql_directory::wait_for(std::int64_t position, std::chrono::milliseconds timeout) const {
  if (projector_) {
    const std::string names[] = {std::string(records::kProjectionName)};
    return projector_->wait_for(position, timeout, names);
  }
  // No projector here to be told by: look at the catalog until the deadline.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (this->position() >= position) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// ---- lookups ----

template <class State>
std::optional<view<State>> sql_directory::find(std::string_view relation,
                                               std::string_view id) const {
  auto session = db_.acquire();
  const sql::value params[] = {std::string(id)};
  const auto rows = session->query(select_clause(relation) + " WHERE r.id = $1", params);
  if (rows.empty()) return std::nullopt;
  return to_view<State>(rows.front());
}

std::optional<user_view> sql_directory::find_user(std::string_view id) const {
  return find<domain::user_state>(records::kUsers, id);
}
std::optional<team_view> sql_directory::find_team(std::string_view id) const {
  return find<domain::team_state>(records::kTeams, id);
}
std::optional<company_view> sql_directory::find_company(std::string_view id) const {
  return find<domain::company_state>(records::kCompanies, id);
}
std::optional<contact_view> sql_directory::find_contact(std::string_view id) const {
  return find<domain::contact_state>(records::kContacts, id);
}
std::optional<lead_view> sql_directory::find_lead(std::string_view id) const {
  return find<domain::lead_state>(records::kLeads, id);
}
std::optional<pipeline_view> sql_directory::find_pipeline(std::string_view id) const {
  return find<domain::pipeline_state>(records::kPipelines, id);
}
std::optional<deal_view> sql_directory::find_deal(std::string_view id) const {
  return find<domain::deal_state>(records::kDeals, id);
}
std::optional<activity_view> sql_directory::find_activity(std::string_view id) const {
  return find<domain::activity_state>(records::kActivities, id);
}
std::optional<task_view> sql_directory::find_task(std::string_view id) const {
  return find<domain::task_state>(records::kTasks, id);
}

std::optional<user_account> sql_directory::account(std::string_view sql,
                                                   std::string_view key) const {
  auto session = db_.acquire();
  const sql::value params[] = {std::string(key)};
  const auto rows = session->query(sql, params);
  if (rows.empty()) return std::nullopt;
  const auto& r = rows.front();
  user_account a;
  a.user_id = r.text(0);
  a.email = r.text(1);
  if (!from_string(r.text(2), a.role)) {
    throw sql::error("rm_users: user " + a.user_id + " has an unknown role", false);
  }
  a.team_id = r.optional_text(3);
  a.active = r.integer(4) != 0;
  a.password_hash = r.text(5);
  return a;
}

std::optional<user_account> sql_directory::user_by_email(std::string_view email) const {
  // The address belongs to whoever took it last, should two users' histories both hold it.
  return account(
      "SELECT u.id, u.email, u.role, u.team, u.active, c.password_hash FROM rm_user_credentials c "
      "JOIN rm_users u ON u.id = c.user_id WHERE c.email = $1 ORDER BY c.email_position DESC "
      "LIMIT 1",
      email);
}

std::optional<user_account> sql_directory::user_by_id(std::string_view id) const {
  return account(
      "SELECT u.id, u.email, u.role, u.team, u.active, c.password_hash FROM rm_users u LEFT JOIN "
      "rm_user_credentials c ON c.user_id = u.id WHERE u.id = $1",
      id);
}

std::optional<std::string> sql_directory::team_of(std::string_view user_id) const {
  auto session = db_.acquire();
  const sql::value params[] = {std::string(user_id)};
  const auto rows = session->query("SELECT team FROM rm_users WHERE id = $1", params);
  if (rows.empty()) return std::nullopt;
  return rows.front().optional_text(0);
}

std::int64_t sql_directory::open_deals_in_stage(std::string_view pipeline_id,
                                                std::string_view stage_id) const {
  auto session = db_.acquire();
  const sql::value params[] = {std::string(pipeline_id), std::string(stage_id)};
  return session
      ->query(
          "SELECT COUNT(*) FROM rm_deals WHERE stage = $2 AND pipeline = $1 AND status = 'open' "
          "AND NOT archived",
          params)
      .front()
      .integer(0);
}

// ---- lists ----

// Filters that do not apply to a kind of record match nothing, archived (and merged)
// records only on request, deleted ones never.
template <class State>
page<view<State>> sql_directory::list(std::string_view relation, const list_query& q) const {
  const auto& r = records::relation_named(relation);
  page<view<State>> out;
  out.position = position();
  auto nothing = [&] { return out; };

  statement s;
  s.sql = select_clause(relation);
  if (r.has("archived") && !q.include_archived) s.where("NOT r.archived");
  if (r.has("deleted")) s.where("NOT r.deleted");
  if (q.owner) {
    if (!r.has("owner")) return nothing();
    s.where("r.owner = " + s.param(*q.owner));
  }
  // A record's team is its owner's (a user's own, for users).
  auto in_team = [&](const std::string& team) {
    if (r.has("team")) {
      s.where("r.team = " + s.param(team));
    } else {
      s.where("r.owner IN (SELECT u.id FROM rm_users u WHERE u.team = " + s.param(team) + ")");
    }
  };
  if ((q.team || q.only_team) && !r.has("team") && !r.has("owner")) return nothing();
  if (q.team) in_team(*q.team);
  if (q.only_team) {
    if (!*q.only_team) return nothing();
    in_team(**q.only_team);
  }
  if (q.status) {
    if (!r.has("status")) return nothing();
    s.where("r.status = " + s.param(*q.status));
  }
  if (q.stage || q.pipeline) {
    if (!r.has("stage")) return nothing();
    if (q.stage) s.where("r.stage = " + s.param(*q.stage));
    if (q.pipeline) s.where("r.pipeline = " + s.param(*q.pipeline));
  }
  if (q.subject) {
    if (!r.has("subject_id")) return nothing();
    s.where("r.subject_id = " + s.param(q.subject->id));
    s.where("r.subject_kind = " + s.param(std::string(to_string(q.subject->kind))));
  }
  if (q.updated_since) {
    s.where("r.updated_at >= " + s.param(q.updated_since->time_since_epoch().count()));
  }
  if (q.without_open_task) {
    if (!r.has("stage")) return nothing();
    s.where(
        "NOT EXISTS (SELECT 1 FROM rm_tasks t WHERE t.subject_kind = 'deal' AND t.subject_id = "
        "r.id AND t.status = 'open' AND NOT t.deleted)");
  }
  if (q.sort == sort_field::score && relation != records::kLeads) return nothing();
  const std::string column = q.sort == sort_field::score ? std::string(sort_column(q.sort))
                                                         : "r." + std::string(sort_column(q.sort));
  const std::string_view after = q.descending ? " < " : " > ";
  if (q.after) {
    sql::value key = q.after->key;
    std::string id = q.after->id;
    if (q.sort != sort_field::name) {
      const auto bound = bound_of(q.after->key);
      // Past every instant: nothing comes after it, everything before it.
      if (!bound.at && !q.descending) return nothing();
      key = bound.at ? sql::value(*bound.at) : sql::null();
      // Between two instants' keys: (at, "") sorts just before every row at `at`.
      if (!bound.exact) id.clear();
    }
    if (!std::holds_alternative<std::monostate>(key)) {
      const auto key_param = s.param(std::move(key));
      s.where("(" + column + ", r.id)" + std::string(after) + "(" + key_param + ", " +
              s.param(std::move(id)) + ")");
    }
  }
  const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, kMaxPageSize);
  const std::string_view direction = q.descending ? " DESC" : " ASC";
  s.sql += " ORDER BY " + column + std::string(direction) + ", r.id" + std::string(direction) +
           " LIMIT " + s.param(static_cast<std::int64_t>(limit + 1));

  auto session = db_.acquire();
  const auto rows = session->query(s.sql, s.params);
  const bool more = rows.size() > limit;
  const std::size_t shown = std::min(rows.size(), limit);
  out.items.reserve(shown);
  for (std::size_t i = 0; i < shown; ++i) out.items.push_back(to_view<State>(rows[i]));
  if (more) {
    const auto& last = rows[shown - 1];
    std::string key;
    switch (q.sort) {
      case sort_field::created_at:
        key = time_key(last.integer(3));
        break;
      case sort_field::updated_at:
        key = time_key(last.integer(4));
        break;
      case sort_field::name:
        key = last.text(5);
        break;
      case sort_field::score:
        if constexpr (std::is_same_v<State, domain::lead_state>) {
          key = time_key(out.items.back().state.score.value_or(-1) + 1);
        }
        break;
    }
    out.next_cursor = encode_cursor({q.sort, q.descending, std::move(key), last.text(0)});
  }
  return out;
}

page<user_view> sql_directory::list_users(const list_query& q) const {
  return list<domain::user_state>(records::kUsers, q);
}
page<team_view> sql_directory::list_teams(const list_query& q) const {
  return list<domain::team_state>(records::kTeams, q);
}
page<company_view> sql_directory::list_companies(const list_query& q) const {
  return list<domain::company_state>(records::kCompanies, q);
}
page<contact_view> sql_directory::list_contacts(const list_query& q) const {
  return list<domain::contact_state>(records::kContacts, q);
}
page<lead_view> sql_directory::list_leads(const list_query& q) const {
  return list<domain::lead_state>(records::kLeads, q);
}
page<pipeline_view> sql_directory::list_pipelines(const list_query& q) const {
  return list<domain::pipeline_state>(records::kPipelines, q);
}
page<deal_view> sql_directory::list_deals(const list_query& q) const {
  return list<domain::deal_state>(records::kDeals, q);
}
page<activity_view> sql_directory::list_activities(const list_query& q) const {
  return list<domain::activity_state>(records::kActivities, q);
}
page<task_view> sql_directory::list_tasks(const list_query& q) const {
  return list<domain::task_state>(records::kTasks, q);
}

}  // namespace realmkit::api::crm

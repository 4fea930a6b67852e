#include "api/crm/memory_directory.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "infra/event_codec.hpp"

namespace realmkit::api::crm {
namespace {

using namespace domain;

// ---- what lists filter and sort on, per kind of record ----

std::string name_of(const user_state& s) {
  return s.display_name;
}
std::string name_of(const team_state& s) {
  return s.name;
}
std::string name_of(const pipeline_state& s) {
  return s.name;
}
std::string name_of(const company_state& s) {
  return s.name;
}
std::string name_of(const contact_state& s) {
  return s.last_name + " " + s.first_name;
}
std::string name_of(const lead_state& s) {
  return s.name;
}
std::string name_of(const deal_state& s) {
  return s.title;
}
std::string name_of(const activity_state& s) {
  return s.summary;
}
std::string name_of(const task_state& s) {
  return s.title;
}

std::optional<std::string_view> status_of(const user_state& s) {
  return s.active ? "active" : "inactive";
}
std::optional<std::string_view> status_of(const lead_state& s) {
  return to_string(s.status);
}
std::optional<std::string_view> status_of(const deal_state& s) {
  return to_string(s.status);
}
std::optional<std::string_view> status_of(const task_state& s) {
  return s.done ? "done" : "open";
}
template <class State>
std::optional<std::string_view> status_of(const State&) {
  return std::nullopt;
}

// Hidden from lists unless include_archived.
bool archived(const user_state&) {
  return false;
}
bool archived(const team_state& s) {
  return s.archived;
}
bool archived(const pipeline_state& s) {
  return s.archived;
}
bool archived(const company_state& s) {
  return s.archived;
}
bool archived(const contact_state& s) {
  return s.archived || s.merged_into.has_value();
}
bool archived(const lead_state&) {
  return false;
}
bool archived(const deal_state& s) {
  return s.archived;
}
bool archived(const activity_state&) {
  return false;
}
bool archived(const task_state&) {
  return false;
}

// Never listed.
bool deleted(const activity_state& s) {
  return s.deleted;
}
bool deleted(const task_state& s) {
  return s.deleted;
}
template <class State>
bool deleted(const State&) {
  return false;
}

const entity_ref* subject_of(const activity_state& s) {
  return &s.subject;
}
const entity_ref* subject_of(const task_state& s) {
  return s.link ? &*s.link : nullptr;
}
template <class State>
const entity_ref* subject_of(const State&) {
  return nullptr;
}

bool deal_matches(const deal_state& s, const list_query& q) {
  return (!q.stage || s.stage.value == *q.stage) &&
         (!q.pipeline || s.pipeline.value == *q.pipeline);
}
template <class State>
bool deal_matches(const State&, const list_query& q) {
  return !q.stage && !q.pipeline;
}

// Fixed width, so keys of instants compare as text in time order.
std::string time_key(timestamp t) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%020lld",
                static_cast<long long>(t.time_since_epoch().count()));
  return buffer;
}

template <class State>
std::string sort_key_of(const view<State>& v, sort_field field) {
  switch (field) {
    case sort_field::created_at:
      return time_key(v.meta.created_at);
    case sort_field::updated_at:
      return time_key(v.meta.updated_at);
    case sort_field::name:
      return rules::folded(name_of(v.state));
  }
  return {};
}

std::string_view category_of(std::string_view stream_id, std::string_view& id) {
  const auto dash = stream_id.find('-');
  if (dash == std::string_view::npos) return {};
  id = stream_id.substr(dash + 1);
  return stream_id.substr(0, dash);
}

}  // namespace

memory_directory::memory_directory(infra::event_store& store, memory_directory_options options)
    : store_(store), options_(options) {}

memory_directory::~memory_directory() {
  stop();
}

void memory_directory::start() {
  std::lock_guard lock(supervisor_mutex_);
  subscribe();
  supervisor_ = std::thread([this] { supervise(); });
}

// Under supervisor_mutex_.
void memory_directory::subscribe() {
  subscription_ = store_.subscribe_all(
      position_.load(), [this](const infra::recorded_event& event) { apply(event); },
      [this](std::exception_ptr error) {
        std::string what = "unknown error";
        bool transient = false;
        try {
          std::rethrow_exception(error);
        } catch (const infra::store_unavailable& e) {
          what = e.what();
          transient = true;
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("CRM read side stopped at position {}: {}{}", position_.load(), what,
                      transient ? "; subscribing again" : "");
        {
          std::unique_lock lock(mutex_);
          failure_ = what;
        }
        if (transient) {
          std::lock_guard lock(supervisor_mutex_);
          retry_ = true;
          supervisor_wake_.notify_all();
        }
      });
}

// Subscribes again after a store failure, from the position reached, until stopped.
void memory_directory::supervise() {
  std::unique_lock lock(supervisor_mutex_);
  while (!stopping_) {
    supervisor_wake_.wait(lock, [this] { return stopping_ || retry_; });
    if (stopping_) return;
    if (supervisor_wake_.wait_for(lock, options_.retry_delay, [this] { return stopping_; })) return;
    retry_ = false;
    // The old subscription's thread has ended (it reported the failure); joining it is immediate.
    auto old = std::move(subscription_);
    lock.unlock();
    old.reset();
    lock.lock();
    if (stopping_) return;
    subscribe();
    ++restarts_;
    std::unique_lock state(mutex_);
    failure_.reset();
  }
}

void memory_directory::stop() {
  std::unique_ptr<infra::subscription> subscription;
  {
    std::lock_guard lock(supervisor_mutex_);
    stopping_ = true;
    supervisor_wake_.notify_all();
  }
  if (supervisor_.joinable()) supervisor_.join();
  {
    std::lock_guard lock(supervisor_mutex_);
    subscription = std::move(subscription_);
  }
  subscription.reset();
}

std::optional<std::string> memory_directory::failure() const {
  std::shared_lock lock(mutex_);
  return failure_;
}

template <class Aggregate>
void memory_directory::fold(table<typename Aggregate::state>& rows, std::string_view id,
                            const infra::recorded_event& event) {
  auto decoded = infra::decode_event<typename Aggregate::event>(event);
  auto it = rows.find(id);
  if (it == rows.end()) {
    view<typename Aggregate::state> fresh;
    fresh.meta.id = std::string(id);
    fresh.meta.created_at = event.recorded_at;
    it = rows.emplace(std::string(id), std::move(fresh)).first;
  }
  auto& row = it->second;
  if constexpr (std::is_same_v<Aggregate, user_aggregate>) index_email(decoded);
  row.state = evolve(std::move(row.state), decoded);
  row.meta.version = event.stream_version;
  row.meta.position = event.global_position;
  row.meta.updated_at = event.recorded_at;
}

void memory_directory::index_email(const user_event& event) {
  if (const auto* e = std::get_if<user_registered>(&event)) {
    emails_[e->email] = e->user.value;
  } else if (const auto* e = std::get_if<user_email_changed>(&event)) {
    if (auto it = emails_.find(e->from); it != emails_.end() && it->second == e->user.value) {
      emails_.erase(it);
    }
    emails_[e->to] = e->user.value;
  }
}

void memory_directory::apply(const infra::recorded_event& event) {
  std::string_view id;
  const auto category = category_of(event.stream_id, id);
  {
    std::unique_lock lock(mutex_);
    if (category == user_aggregate::kCategory) {
      fold<user_aggregate>(users_, id, event);
    } else if (category == team_aggregate::kCategory) {
      fold<team_aggregate>(teams_, id, event);
    } else if (category == company_aggregate::kCategory) {
      fold<company_aggregate>(companies_, id, event);
    } else if (category == contact_aggregate::kCategory) {
      fold<contact_aggregate>(contacts_, id, event);
    } else if (category == lead_aggregate::kCategory) {
      fold<lead_aggregate>(leads_, id, event);
    } else if (category == pipeline_aggregate::kCategory) {
      fold<pipeline_aggregate>(pipelines_, id, event);
    } else if (category == deal_aggregate::kCategory) {
      fold<deal_aggregate>(deals_, id, event);
    } else if (category == activity_aggregate::kCategory) {
      fold<activity_aggregate>(activities_, id, event);
    } else if (category == task_aggregate::kCategory) {
      fold<task_aggregate>(tasks_, id, event);
    }
  }
  {
    std::lock_guard lock(position_mutex_);
    position_ = event.global_position;
  }
  position_changed_.notify_all();
}

bool memory_directory::wait_for(std::int64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(position_mutex_);
  return position_changed_.wait_for(lock, timeout, [&] { return position_.load() >= position; });
}

// ---- lookups ----

template <class State>
std::optional<view<State>> memory_directory::find(const table<State>& rows,
                                                  std::string_view id) const {
  std::shared_lock lock(mutex_);
  const auto it = rows.find(id);
  if (it == rows.end() || !it->second.state.exists) return std::nullopt;
  return it->second;
}

std::optional<user_view> memory_directory::find_user(std::string_view id) const {
  return find(users_, id);
}
std::optional<team_view> memory_directory::find_team(std::string_view id) const {
  return find(teams_, id);
}
std::optional<company_view> memory_directory::find_company(std::string_view id) const {
  return find(companies_, id);
}
std::optional<contact_view> memory_directory::find_contact(std::string_view id) const {
  return find(contacts_, id);
}
std::optional<lead_view> memory_directory::find_lead(std::string_view id) const {
  return find(leads_, id);
}
std::optional<pipeline_view> memory_directory::find_pipeline(std::string_view id) const {
  return find(pipelines_, id);
}
std::optional<deal_view> memory_directory::find_deal(std::string_view id) const {
  return find(deals_, id);
}
std::optional<activity_view> memory_directory::find_activity(std::string_view id) const {
  return find(activities_, id);
}
std::optional<task_view> memory_directory::find_task(std::string_view id) const {
  return find(tasks_, id);
}

std::optional<std::string> memory_directory::team_of_locked(std::string_view user_id) const {
  const auto it = users_.find(user_id);
  if (it == users_.end() || !it->second.state.exists || !it->second.state.team) {
    return std::nullopt;
  }
  return it->second.state.team->value;
}

std::optional<std::string> memory_directory::team_of(std::string_view user_id) const {
  std::shared_lock lock(mutex_);
  return team_of_locked(user_id);
}

std::optional<user_account> memory_directory::account_locked(std::string_view id) const {
  const auto it = users_.find(id);
  if (it == users_.end() || !it->second.state.exists) return std::nullopt;
  const auto& s = it->second.state;
  user_account account;
  account.user_id = s.id.value;
  account.email = s.email;
  account.password_hash = s.password_hash;
  account.role = s.role;
  if (s.team) account.team_id = s.team->value;
  account.active = s.active;
  return account;
}

std::optional<user_account> memory_directory::user_by_email(std::string_view email) const {
  std::shared_lock lock(mutex_);
  const auto it = emails_.find(email);
  if (it == emails_.end()) return std::nullopt;
  return account_locked(it->second);
}

std::optional<user_account> memory_directory::user_by_id(std::string_view id) const {
  std::shared_lock lock(mutex_);
  return account_locked(id);
}

std::int64_t memory_directory::open_deals_in_stage(std::string_view pipeline_id,
                                                   std::string_view stage_id) const {
  std::shared_lock lock(mutex_);
  return std::count_if(deals_.begin(), deals_.end(), [&](const auto& row) {
    const auto& s = row.second.state;
    return s.exists && !s.archived && s.status == deal_status::open &&
           s.pipeline.value == pipeline_id && s.stage.value == stage_id;
  });
}

// ---- lists ----

template <class State>
page<view<State>> memory_directory::list(const table<State>& rows, const list_query& q) const {
  struct candidate {
    std::string key;
    const view<State>* row;
  };
  page<view<State>> out;
  std::shared_lock lock(mutex_);
  out.position = position_.load();
  std::vector<candidate> found;
  for (const auto& [id, row] : rows) {
    const auto& s = row.state;
    if (!s.exists || deleted(s)) continue;
    if (!q.include_archived && archived(s)) continue;
    const user_id* owner = owner_of(s);
    if (q.owner && (!owner || owner->value != *q.owner)) continue;
    if (q.team || q.only_team) {
      std::optional<std::string> team;
      if constexpr (std::is_same_v<State, user_state>) {
        if (s.team) team = s.team->value;
      } else if (owner) {
        team = team_of_locked(owner->value);
      }
      if (q.team && team != *q.team) continue;
      if (q.only_team && (!*q.only_team || team != **q.only_team)) continue;
    }
    if (q.status && status_of(s) != std::optional<std::string_view>(*q.status)) continue;
    if (!deal_matches(s, q)) continue;
    if (q.subject) {
      const entity_ref* subject = subject_of(s);
      if (!subject || *subject != *q.subject) continue;
    }
    if (q.updated_since && row.meta.updated_at < *q.updated_since) continue;
    candidate c{sort_key_of(row, q.sort), &row};
    if (q.after) {
      const auto order = std::tie(c.key, row.meta.id) <=> std::tie(q.after->key, q.after->id);
      if (q.descending ? order >= 0 : order <= 0) continue;
    }
    found.push_back(std::move(c));
  }
  auto less = [&](const candidate& a, const candidate& b) {
    const auto order = std::tie(a.key, a.row->meta.id) <=> std::tie(b.key, b.row->meta.id);
    return q.descending ? order > 0 : order < 0;
  };
  const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, kMaxPageSize);
  const bool more = found.size() > limit;
  const auto end = found.begin() + static_cast<std::ptrdiff_t>(std::min(found.size(), limit));
  std::partial_sort(found.begin(), end, found.end(), less);
  for (auto it = found.begin(); it != end; ++it) out.items.push_back(*it->row);
  if (more) {
    const auto& last = *(end - 1);
    out.next_cursor = encode_cursor({q.sort, q.descending, last.key, last.row->meta.id});
  }
  return out;
}

page<user_view> memory_directory::list_users(const list_query& q) const {
  return list(users_, q);
}
page<team_view> memory_directory::list_teams(const list_query& q) const {
  return list(teams_, q);
}
page<company_view> memory_directory::list_companies(const list_query& q) const {
  return list(companies_, q);
}
page<contact_view> memory_directory::list_contacts(const list_query& q) const {
  return list(contacts_, q);
}
page<lead_view> memory_directory::list_leads(const list_query& q) const {
  return list(leads_, q);
}
page<pipeline_view> memory_directory::list_pipelines(const list_query& q) const {
  return list(pipelines_, q);
}
page<deal_view> memory_directory::list_deals(const list_query& q) const {
  return list(deals_, q);
}
page<activity_view> memory_directory::list_activities(const list_query& q) const {
  return list(activities_, q);
}
page<task_view> memory_directory::list_tasks(const list_query& q) const {
  return list(tasks_, q);
}

}  // namespace realmkit::api::crm

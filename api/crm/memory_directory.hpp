// The first read side: every event of the store folded into per-aggregate states in memory, with
// the domain's own evolve functions. It catches up from the start of the store, then follows it
// live; queries run under a shared lock while one subscription thread applies events.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "api/crm/crm_queries.hpp"
#include "infra/event_store.hpp"

namespace realmkit::api::crm {

struct memory_directory_options {
  // After the store fails under the subscription (infra::store_unavailable), how long to wait
  // before subscribing again from the position reached. A corrupt event stops it for good.
  std::chrono::milliseconds retry_delay{1'000};
};

class memory_directory final : public crm_queries {
 public:
  // The store must outlive the directory. Nothing is read before start().
  explicit memory_directory(infra::event_store& store, memory_directory_options options = {});
  // Stops following the store.
  ~memory_directory() override;
  memory_directory(const memory_directory&) = delete;
  memory_directory& operator=(const memory_directory&) = delete;

  // Subscribes to the store from its first event: catches up with everything stored, then applies
  // new events as they are committed, on the subscription's thread. Returns at once; wait_for
  // tells when a position is reached. Call once.
  void start();
  // Stops following the store; queries keep answering from what was applied. Idempotent.
  void stop();

  // Applies one stored event; events must arrive in global order. What the subscription calls,
  // public for tests that feed events by hand. Events of unknown categories are skipped; an event
  // of a known category that cannot be decoded throws infra::corrupt_event.
  void apply(const infra::recorded_event& event);

  // Why the subscription stopped (a corrupt event, a store failure); nullopt while healthy. The
  // read side then stays at its position, readiness checks report it, and after a store failure
  // it subscribes again (retry_delay later) and clears the failure.
  std::optional<std::string> failure() const;
  // How many times the subscription was started again after a store failure.
  std::uint64_t restarts() const { return restarts_.load(); }

  std::optional<user_view> find_user(std::string_view id) const override;
  std::optional<team_view> find_team(std::string_view id) const override;
  std::optional<company_view> find_company(std::string_view id) const override;
  std::optional<contact_view> find_contact(std::string_view id) const override;
  std::optional<lead_view> find_lead(std::string_view id) const override;
  std::optional<pipeline_view> find_pipeline(std::string_view id) const override;
  std::optional<deal_view> find_deal(std::string_view id) const override;
  std::optional<activity_view> find_activity(std::string_view id) const override;
  std::optional<task_view> find_task(std::string_view id) const override;

  page<user_view> list_users(const list_query& q) const override;
  page<team_view> list_teams(const list_query& q) const override;
  page<company_view> list_companies(const list_query& q) const override;
  page<contact_view> list_contacts(const list_query& q) const override;
  page<lead_view> list_leads(const list_query& q) const override;
  page<pipeline_view> list_pipelines(const list_query& q) const override;
  page<deal_view> list_deals(const list_query& q) const override;
  page<activity_view> list_activities(const list_query& q) const override;
  page<task_view> list_tasks(const list_query& q) const override;

  std::optional<user_account> user_by_email(std::string_view email) const override;
  std::optional<user_account> user_by_id(std::string_view id) const override;
  std::optional<std::string> team_of(std::string_view user_id) const override;
  std::int64_t open_deals_in_stage(std::string_view pipeline_id,
                                   std::string_view stage_id) const override;

  std::int64_t position() const override { return position_.load(); }
  bool wait_for(std::int64_t position, std::chrono::milliseconds timeout) const override;

 private:
  // Looked up by string_view without building a string.
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class State>
  using table = std::unordered_map<std::string, view<State>, string_hash, std::equal_to<>>;

  template <class Aggregate>
  void fold(table<typename Aggregate::state>& rows, std::string_view id,
            const infra::recorded_event& event);
  void index_email(const domain::user_event& event);
  template <class State>
  std::optional<view<State>> find(const table<State>& rows, std::string_view id) const;
  template <class State>
  page<view<State>> list(const table<State>& rows, const list_query& q) const;
  // Under the shared lock.
  std::optional<std::string> team_of_locked(std::string_view user_id) const;
  std::optional<user_account> account_locked(std::string_view id) const;

  infra::event_store& store_;

  mutable std::shared_mutex mutex_;  // guards every table, emails_ and failure_
  table<domain::user_state> users_;
  table<domain::team_state> teams_;
  table<domain::company_state> companies_;
  table<domain::contact_state> contacts_;
  table<domain::lead_state> leads_;
  table<domain::pipeline_state> pipelines_;
  table<domain::deal_state> deals_;
  table<domain::activity_state> activities_;
  table<domain::task_state> tasks_;
  std::map<std::string, std::string, std::less<>> emails_;  // normalized e-mail → user id
  std::optional<std::string> failure_;

  std::atomic<std::int64_t> position_{0};
  mutable std::mutex position_mutex_;  // pairs with position_changed_; position_ is atomic
  mutable std::condition_variable position_changed_;

  void subscribe();
  void supervise();

  const memory_directory_options options_;
  std::mutex supervisor_mutex_;  // guards subscription_, stopping_ and retry_
  std::condition_variable supervisor_wake_;
  bool stopping_ = false;
  bool retry_ = false;  // the subscription stopped on a store failure: subscribe again
  std::unique_ptr<infra::subscription> subscription_;
  std::atomic<std::uint64_t> restarts_{0};
  std::thread supervisor_;
};

}  // namespace realmkit::api::crm

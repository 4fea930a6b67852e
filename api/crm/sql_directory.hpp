// The CRM routes' read side over the "records" read model (projections/records): each record by
// id, filtered keyset-paginated lists and the accounts logins need, read through the stable views
// (the live generation) on pooled sessions. Its position is the records projection's checkpoint,
// so min_position waits for that projection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/crm/crm_queries.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::projections {
class projector;
}

namespace realmkit::api::crm {

class sql_directory final : public crm_queries {
 public:
  // The database must outlive the directory, and so must the projector when given: the one that
  // runs the "records" projection in this process. Without one (a process that serves but does
  // not project), the position is read from the projector's catalog and wait_for polls it.
  sql_directory(infra::sql::database& db, const projections::projector* projector);

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

  std::int64_t position() const override;
  bool wait_for(std::int64_t position, std::chrono::milliseconds timeout) const override;

 private:
  template <class State>
  std::optional<view<State>> find(std::string_view relation, std::string_view id) const;
  template <class State>
  page<view<State>> list(std::string_view relation, const list_query& q) const;
  std::optional<user_account> account(std::string_view sql, std::string_view key) const;

  infra::sql::database& db_;
  const projections::projector* projector_;
};

}  // namespace realmkit::api::crm

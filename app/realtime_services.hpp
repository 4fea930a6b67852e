// What the real-time hub needs from the rest of the server: the retained room-update log read from
// the read-model database, and the HTTP API's visibility rules for subscriptions.
#pragma once

#include "api/crm/crm_queries.hpp"
#include "infra/sql/sql_database.hpp"
#include "realtime/room_access.hpp"
#include "realtime/room_log.hpp"

namespace realmkit::app {

// Reads the live generation of the rooms projection through its stable views.
class sql_room_log final : public realtime::room_log {
 public:
  explicit sql_room_log(infra::sql::database& db) : db_(db) {}
  realtime::room_replay replay(const std::string& room, std::optional<std::int64_t> since,
                               std::size_t limit) override;
  std::vector<infra::room_message> range(const std::string& room, std::int64_t from_seq,
                                         std::int64_t to_seq) override;

 private:
  infra::sql::database& db_;
};

// The rules of GET on the same records: user:<id> only for that user; pipeline:<id> for whoever may
// read boards (team scope applies per message); deal:<id> and contact:<id> for whoever may read the
// record (same team, or a role that sees every team). A hidden record is "not_found", as in HTTP.
class crm_room_access final : public realtime::room_access {
 public:
  explicit crm_room_access(const api::crm::crm_queries& queries) : queries_(queries) {}
  std::optional<realtime::access_refusal> check(const realtime::viewer& who,
                                                const realtime::room_name& room,
                                                std::optional<std::int64_t> seen) override;

 private:
  bool sees_owner(const realtime::viewer& who, const std::string& owner) const;
  const api::crm::crm_queries& queries_;
};

}  // namespace realmkit::app

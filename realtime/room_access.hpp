// Who may subscribe to which room: the same visibility rules as the HTTP API (a rep sees only their
// team's deals and contacts; user:<id> is only for that user). Implemented in the app wiring over
// the CRM read models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/user/user_events.hpp"
#include "realtime/protocol.hpp"

namespace realmkit::realtime {

// The user behind a connection, as their access token says.
struct viewer {
  std::string user_id;
  domain::user_role role = domain::user_role::sales_rep;
  bool all_teams = false;           // admins, analysts, auditors see every team's records
  std::optional<std::string> team;  // the user's team, for team-scoped roles
};

// Whether a message whose record belongs to `team` (nullopt: no team-owned record) may reach
// `who` (ARCHITECTURE §3 rule of the HTTP API: same team, or a role that sees every team).
inline bool can_see(const viewer& who, const std::optional<std::string>& team) {
  if (!team || who.all_teams) return true;
  return who.team && !team->empty() && *who.team == *team;
}

struct access_refusal {
  std::string code;  // "forbidden" or "not_found"
  std::string detail;
};

class room_access {
 public:
  virtual ~room_access() = default;
  // nullopt when `who` may subscribe to `room`; may block (database reads). A client that has seen
  // position `seen` (its `since`) is judged on read models that have reached it, so that a record
  // it just created is found.
  virtual std::optional<access_refusal> check(const viewer& who, const room_name& room,
                                              std::optional<std::int64_t> seen) = 0;
};

}  // namespace realmkit::realtime

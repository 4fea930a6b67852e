// Room updates: after each committed batch, the messages the real-time hub delivers to the rooms
// "pipeline:<id>", "deal:<id>", "contact:<id>" and "user:<id>" — each with its room's next
// sequence number and the event's global position — kept in a retained room-update log
// (rm_room_updates) for hubs and clients that resume from a position, and published on the room
// bus once committed. Sequence numbers are derived from the events alone, so a rebuild numbers
// every room exactly as live projection did.
//
// A deal's or contact's message carries the team of the record's owner at that event (tracked from
// the users' own events), so that a hub shows a team-scoped user only their team's deals in a
// pipeline room shared by every team.
//
// Which rooms an event reaches:
//   deal.*      deal:<id>, pipeline:<its pipeline>, and user:<owner> for assignment (old and new
//               owner), won and lost
//   pipeline.*  pipeline:<id>
//   contact.*   contact:<id> (a merge also reaches the survivor's room)
//   task.*      user:<assignee> (both on reassignment), and the room of the record it is linked to
//   activity.*  the room of its subject (deal or contact)
//   lead.*, company.*  user:<owner> on creation and assignment
//   user.*      user:<id>
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "infra/room_bus.hpp"
#include "projections/projection.hpp"

namespace realmkit::projections {

struct rooms_options {
  // Messages older than this leave the log (clients that were away longer reload over HTTP).
  std::chrono::seconds retention = std::chrono::hours{24 * 7};
  // Where committed messages go; null: the log only.
  std::shared_ptr<infra::room_bus> bus;
  // A live writer keeps at most this many rooms and streams cached (only clean ones are dropped).
  std::size_t max_cached = 200'000;
};

class rooms_projection final : public projection {
 public:
  explicit rooms_projection(rooms_options options = {});

  std::string_view name() const override { return "rooms"; }
  int version() const override { return 2; }
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;

  const rooms_options& options() const { return options_; }

 private:
  rooms_options options_;
};

// The relation names, for readers of the log (the hub's resume).
inline constexpr std::string_view kRoomUpdates = "rm_room_updates";

}  // namespace realmkit::projections

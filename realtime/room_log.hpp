// What the hub reads from the retained room-update log (projections/rooms writes it): a room's
// head, the updates after a position (a client resuming) and a range of sequence numbers (a gap
// in what the bus delivered). Implemented over the read-model database in the app wiring.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "infra/room_bus.hpp"

namespace realmkit::realtime {

struct room_replay {
  std::int64_t head_seq = 0;       // the room's last sequence number when read (0: none yet)
  std::int64_t head_position = 0;  // the position of that message (0 when none)
  // The updates after `since`, in sequence order, ending at head_seq.
  std::vector<infra::room_message> messages;
  // False when the log cannot give every update after `since`: some left the retention window,
  // or there are more than the limit. The client must reload over HTTP.
  bool complete = true;
};

class room_log {
 public:
  virtual ~room_log() = default;
  // The head of `room`, and with `since` the updates whose position is after it (at most `limit`;
  // more make the replay incomplete). Throws on a database failure.
  virtual room_replay replay(const std::string& room, std::optional<std::int64_t> since,
                             std::size_t limit) = 0;
  // The updates of `room` with from_seq <= seq <= to_seq, in order (fewer when the log lacks
  // some). Throws on a database failure.
  virtual std::vector<infra::room_message> range(const std::string& room, std::int64_t from_seq,
                                                 std::int64_t to_seq) = 0;
};

}  // namespace realmkit::realtime

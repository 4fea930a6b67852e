// The WebSocket protocol of /ws (docs/realtime.md): the client's JSON text frames parsed into
// values, and the server's frames other than `update` (infra::update_frame builds that one, once
// per message). Pure functions: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace realmkit::realtime {

enum class room_kind { pipeline, deal, contact, user };

// "pipeline:<id>", "deal:<id>", "contact:<id>", "user:<id>"; ids are 1–128 characters of
// [A-Za-z0-9_-].
struct room_name {
  room_kind kind;
  std::string id;
};
std::optional<room_name> parse_room(std::string_view room);

enum class client_op { subscribe, unsubscribe, ping, auth };

struct client_message {
  client_op op = client_op::ping;
  std::string room;                   // subscribe, unsubscribe
  std::optional<std::int64_t> since;  // subscribe: the position the client has seen
  std::string token;                  // auth: a fresh access token
};

// Why a frame was refused: a stable code and a sentence, sent back in an `error` frame.
struct protocol_error {
  std::string code;  // "malformed", "unknown_op", "invalid_room", ...
  std::string detail;
  std::string room;  // when the frame named one
};

std::variant<client_message, protocol_error> parse_client_message(std::string_view text);

// {"op":"subscribed","room":…,"seq":…,"position":…}: the room's last sequence number and position
// the subscription starts after (replayed updates, if any, follow).
std::string subscribed_frame(std::string_view room, std::int64_t seq, std::int64_t position);
// {"op":"unsubscribed","room":…}
std::string unsubscribed_frame(std::string_view room);
// {"op":"resync","room":…,"position":…,"reason":…}: updates of the room (every room when `room` is
// empty) were lost to this client; reload over HTTP (with min_position=position) and keep going.
std::string resync_frame(std::string_view room, std::int64_t position, std::string_view reason);
// {"op":"error","code":…,"detail":…[,"room":…]}
std::string error_frame(const protocol_error& e);
// {"op":"presence","room":…,"action":"join"|"leave","user_id":…}
std::string presence_frame(std::string_view room, std::string_view action,
                           std::string_view user_id);
// {"op":"presence","room":…,"action":"here","users":[…]}: who is there when one joins.
std::string presence_list_frame(std::string_view room, const std::vector<std::string>& users);
// {"op":"pong"}
std::string pong_frame();
// {"op":"authenticated","expires_at":<unix seconds>}
std::string authenticated_frame(std::int64_t expires_at);

}  // namespace realmkit::realtime

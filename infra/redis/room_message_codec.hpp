// The Redis payload of a room message (ARCHITECTURE §5): {"room","seq","position","kind",
// "data":{…},"recorded_at":<µs since epoch>,"team":…} with "team" only when the message has one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "infra/room_bus.hpp"

namespace realmkit::infra::redis {

// `data` is written as it is (raw JSON object text, not re-encoded).
std::string encode_room_message(const room_message& message);

// nullopt for anything that is not a well-formed message, with the reason in `error` when given:
// a payload from another version or a corrupted one is skipped, never a crash. The data object
// comes back re-serialized compactly: the same JSON value, not necessarily the same bytes.
std::optional<room_message> decode_room_message(std::string_view payload,
                                                std::string* error = nullptr);

}  // namespace realmkit::infra::redis

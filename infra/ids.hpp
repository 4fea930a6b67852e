// Identifier generation: UUIDv7 (RFC 9562), time-ordered so new rows land at the end of B-tree
// indexes.
#pragma once

#include <string>
#include <string_view>

namespace realmkit::infra {

// A lowercase hyphenated UUIDv7 from the system clock and libsodium's CSPRNG; unique across
// processes.
std::string new_uuid_v7();

// True for a canonical lowercase hyphenated UUID of any version.
bool is_uuid(std::string_view text);

}  // namespace realmkit::infra

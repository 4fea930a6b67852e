// Tamper evidence for the event log (ARCHITECTURE §3 invariant 8): every event carries a SHA-256
// hash over its predecessor's hash and its own stored bytes, in global order. Changing, removing
// or reordering any stored event breaks the chain at that event; an auditor who kept a signed
// checkpoint (position + hash) can also prove that nothing before it was rewritten, even by
// someone who recomputed every later hash.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "infra/event_store.hpp"

namespace realmkit::infra::audit {

// The hash of "no predecessor": the link of the event at position 1.
inline constexpr chain_hash kGenesisHash{};

// The hash of an event given its predecessor's. What is hashed, and how it is framed so that no
// two different events hash the same bytes, is in docs/event-store.md ("The hash chain"). recorded_at
// counts in microseconds since the Unix epoch, as both stores keep it.
chain_hash chain_link(const chain_hash& previous, std::int64_t global_position,
                      std::string_view event_id, std::string_view stream_id,
                      std::int64_t stream_version, std::string_view type, int schema_version,
                      timestamp recorded_at, std::string_view data, std::string_view metadata);
chain_hash chain_link(const chain_hash& previous, const recorded_event& event);

std::string to_hex(const chain_hash& hash);
// nullopt unless `hex` is exactly 64 hexadecimal digits.
std::optional<chain_hash> chain_hash_from_hex(std::string_view hex);

// Where the chain first breaks, and why.
struct chain_break {
  std::int64_t position = 0;
  std::string reason;
};

// Checks events fed in global order, starting after `after_position` whose hash is `after_hash`.
class chain_verifier {
 public:
  chain_verifier(std::int64_t after_position = 0, chain_hash after_hash = kGenesisHash)
      : position_(after_position), hash_(after_hash) {}

  // The first break seen at or before this event, or nullopt while the chain holds.
  std::optional<chain_break> feed(const recorded_event& event);

  std::int64_t position() const { return position_; }  // the last event that verified
  const chain_hash& hash() const { return hash_; }     // its hash

 private:
  std::int64_t position_;
  chain_hash hash_;
};

}  // namespace realmkit::infra::audit

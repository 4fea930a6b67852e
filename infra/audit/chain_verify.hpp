// Verifying the event log's hash chain (event_chain.hpp), and signed checkpoints: an auditor
// exports a checkpoint (head position + its hash, signed with Ed25519) and can later prove, by
// verifying against it, that nothing at or before that position was changed, removed or reordered,
// even by someone who recomputed every hash after it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "infra/audit/event_chain.hpp"
#include "infra/event_store.hpp"

namespace realmkit::infra::audit {

// An Ed25519 key pair (libsodium crypto_sign).
struct signing_key {
  std::array<std::uint8_t, 64> secret{};
  std::array<std::uint8_t, 32> public_key{};
};

signing_key generate_signing_key();
// {"algorithm":"ed25519","public_key":hex,"secret_key":hex}: the file an operator keeps private.
std::string encode_signing_key(const signing_key& key);
// Throws std::invalid_argument naming what is wrong.
signing_key decode_signing_key(std::string_view json);

struct checkpoint {
  std::int64_t position = 0;
  chain_hash hash{};
  std::string signed_at;  // RFC 3339, UTC
  std::array<std::uint8_t, 32> public_key{};
  std::array<std::uint8_t, 64> signature{};
};

// Signs "realmkit.checkpoint.v1", the position, the hash and the time (docs/event-store.md).
checkpoint sign_checkpoint(std::int64_t position, const chain_hash& hash, timestamp at,
                           const signing_key& key);
// {"format":"realmkit.checkpoint.v1","position","hash","signed_at","public_key","signature"}.
std::string encode_checkpoint(const checkpoint& c);
// Throws std::invalid_argument naming the field at fault. Does not check the signature.
checkpoint decode_checkpoint(std::string_view json);
// True when the signature is the checkpoint key's over the checkpoint's contents.
bool signature_valid(const checkpoint& c);

std::string to_hex(std::span<const std::uint8_t> bytes);

struct verify_options {
  // The last position to check; 0: the store's head when verification starts (appends made
  // meanwhile are left for the next run).
  std::int64_t up_to = 0;
  // A checkpoint the log must still match (its signature is the caller's to check first).
  std::optional<checkpoint> expect;
  std::size_t page = 10'000;  // events read at a time
  // Called after each page with the last position checked, e.g. to report progress.
  std::function<void(std::int64_t)> progress;
};

struct verify_report {
  std::int64_t head = 0;              // the last position it set out to check
  std::int64_t checked = 0;           // events checked
  std::int64_t verified_through = 0;  // the chain holds from position 1 through here
  chain_hash last_hash{};             // the link at verified_through
  std::optional<chain_break> first_break;
  bool checkpoint_matched = false;  // with `expect`: the log's link there is the checkpoint's
  bool ok() const { return !first_break; }
};

// Reads the log in global order from position 1 and recomputes every link. Stops at the first
// break. Throws what the store's read_all throws (corrupt_event for a row that cannot be read,
// which names its position).
verify_report verify_chain(event_store& store, const verify_options& options = {});

}  // namespace realmkit::infra::audit

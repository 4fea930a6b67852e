// The event envelope of ARCHITECTURE §5 as JSON: what the relay puts on Kafka, what projector
// consumers read back, and what the audit export writes. The wire format is pinned in
// docs/events.md.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "infra/event_store.hpp"

namespace realmkit::infra {

// An envelope that cannot be written or read. field() names the offending member ("recorded_at",
// "data"); empty when the text as a whole is at fault (not JSON, not an object).
class envelope_error final : public std::runtime_error {
 public:
  envelope_error(std::string field, const std::string& reason);
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// {"event_id","stream_id","stream_version","global_position","type","schema_version",
//  "recorded_at","data":{...},"metadata":{...}} in that order. data and metadata are copied byte
// for byte (they are the stored JSON texts, and the audit hash chain covers those bytes);
// recorded_at is RFC 3339 UTC with six fraction digits. Throws envelope_error when data or
// metadata is not a JSON object text or recorded_at cannot be written.
std::string encode_envelope(const recorded_event& event);
// Appends the envelope to `out`, so a batch of envelopes can share one buffer.
void encode_envelope(const recorded_event& event, std::string& out);

// The exact inverse of encode_envelope: data and metadata come back as the bytes they had in the
// text. Every member is required; unknown members are ignored so a newer writer can add some.
// Throws envelope_error for anything else: invalid JSON or UTF-8, a missing, duplicated or
// mistyped member, a version or position below 1, a bad timestamp.
recorded_event decode_envelope(std::string_view text);

}  // namespace realmkit::infra

// Who and what caused an event: the envelope's metadata object, kept apart from the event's data.
#pragma once

#include <string>
#include <string_view>

namespace realmkit::infra {

// Empty strings stand for "not known" and are stored as null.
struct event_metadata {
  std::string actor;            // user id of whoever issued the command ("system" for jobs)
  std::string correlation_id;   // the request or workflow every resulting event shares
  std::string causation_id;     // the command or event id that directly caused this one
  std::string idempotency_key;  // the client's Idempotency-Key, when it sent one
  std::string ip;               // the client address as the API saw it

  bool operator==(const event_metadata&) const = default;
};

// {"actor":...,"correlation_id":...,"causation_id":...,"idempotency_key":...,"ip":...}, every
// member present. Metadata comes from request headers and must never fail a command, so invalid
// UTF-8 is replaced by U+FFFD rather than refused.
std::string encode_metadata(const event_metadata& metadata);

// Accepts missing and null members as empty and ignores unknown ones; throws corrupt_event
// (infra/event_store.hpp) for invalid JSON, a non-object, or a member that is not a string.
event_metadata decode_metadata(std::string_view json);

}  // namespace realmkit::infra

#include "infra/postgres/postgres_append_plan.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace realmkit::infra::postgres_detail {
namespace {

std::string event_field(std::size_t write, std::size_t event, std::string_view name) {
  return "streams/" + std::to_string(write) + ".events/" + std::to_string(event) + "." +
         std::string(name);
}

// RFC 3629 UTF-8 without NUL: what a PostgreSQL text or json value in a UTF8 database accepts.
bool is_storable_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      code = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    const bool overlong = (extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000);
    if (overlong || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return false;
    i += extra + 1;
  }
  return true;
}

bool is_key_part(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max || !is_storable_utf8(s)) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return false;
  }
  return true;
}

}  // namespace

append_plan::append_plan(batch_state state, std::span<const append_request> requests)
    : state_(std::move(state)), first_position_(state_.last_position + 1) {
  outcomes_.reserve(requests.size());
  for (const auto& request : requests) outcomes_.push_back(decide(request));
}

std::int64_t append_plan::version_of(const std::string& stream_id) const {
  const auto it = state_.stream_versions.find(stream_id);
  return it == state_.stream_versions.end() ? 0 : it->second;
}

append_outcome append_plan::decide(const append_request& request) {
  if (request.key && request.key->has_value()) {
    const auto& key = **request.key;
    const auto it = state_.keys.find({key.actor, key.key});
    if (it != state_.keys.end()) {
      if (it->second.fingerprint != key.fingerprint) {
        return {std::nullopt, std::make_exception_ptr(idempotency_key_reused(
                                  "idempotency key " + key.key + " of " + key.actor +
                                  " was already used for a different request"))};
      }
      append_result replayed = it->second.result;
      replayed.replayed = true;
      return {std::move(replayed), nullptr};
    }
  }

  std::size_t total = 0;
  std::size_t known = 0;
  std::string first_known_field;
  std::string first_known_id;
  for (std::size_t w = 0; w < request.writes.size(); ++w) {
    const auto& events = request.writes[w].events;
    for (std::size_t i = 0; i < events.size(); ++i) {
      ++total;
      if (state_.events.contains(events[i].event_id)) {
        if (known++ == 0) {
          first_known_field = event_field(w, i, "event_id");
          first_known_id = events[i].event_id;
        }
      }
    }
  }
  if (known == total) return replay(request);
  if (known > 0) {
    return {std::nullopt,
            std::make_exception_ptr(invalid_append(
                first_known_field, "event id " + first_known_id +
                                       " is already stored, but not every event of the append "
                                       "is: a retry must resend the whole append"))};
  }

  for (const auto& write : request.writes) {
    const std::int64_t current = version_of(write.stream_id);
    if (write.expected && *write.expected != current) {
      return {std::nullopt, std::make_exception_ptr(
                                wrong_expected_version(write.stream_id, write.expected, current))};
    }
  }
  return {accept(request), nullptr};
}

// Every event id of the append is stored already: a retry when each write's events sit in its
// stream in the same order (consecutive versions) with the same types; then the original result.
append_outcome append_plan::replay(const append_request& request) const {
  append_result result;
  result.replayed = true;
  for (std::size_t w = 0; w < request.writes.size(); ++w) {
    const auto& write = request.writes[w];
    const stored_event_ref* previous = nullptr;
    for (std::size_t i = 0; i < write.events.size(); ++i) {
      const auto& stored = state_.events.at(write.events[i].event_id);
      const bool in_place = stored.stream_id == write.stream_id &&
                            stored.type == write.events[i].type &&
                            (!previous || (stored.stream_version == previous->stream_version + 1 &&
                                           stored.global_position > previous->global_position));
      if (!in_place) {
        return {std::nullopt,
                std::make_exception_ptr(invalid_append(
                    event_field(w, i, "event_id"),
                    "event id " + write.events[i].event_id +
                        " is already stored as a different event (stream " + stored.stream_id +
                        ", version " + std::to_string(stored.stream_version) + ")"))};
      }
      previous = &stored;
    }
    result.streams.push_back(
        {write.stream_id, previous->stream_version, previous->global_position});
    result.position = std::max(result.position, previous->global_position);
  }
  return {std::move(result), nullptr};
}

append_result append_plan::accept(const append_request& request) {
  append_result result;
  for (const auto& write : request.writes) {
    std::int64_t& version = state_.stream_versions[write.stream_id];
    for (const auto& event : write.events) {
      ++version;
      ++state_.last_position;
      events_.push_back({state_.last_position, version, &write.stream_id, &event});
      state_.events.emplace(event.event_id, stored_event_ref{write.stream_id, version,
                                                             state_.last_position, event.type});
    }
    written_streams_[write.stream_id] = version;
    result.streams.push_back({write.stream_id, version, state_.last_position});
  }
  result.position = state_.last_position;
  if (request.key && request.key->has_value()) {
    const auto& key = **request.key;
    state_.keys[{key.actor, key.key}] = stored_key{key.fingerprint, result};
    keys_.push_back({&key, encode_append_result(result)});
  }
  ++written_appends_;
  return result;
}

void validate_for_postgres(std::span<const stream_write> writes,
                           const std::optional<idempotency_key>& key) {
  for (std::size_t w = 0; w < writes.size(); ++w) {
    const auto& write = writes[w];
    if (!is_storable_utf8(write.stream_id)) {
      throw invalid_append("streams/" + std::to_string(w) + ".stream_id",
                           "stream id must be valid UTF-8");
    }
    for (std::size_t i = 0; i < write.events.size(); ++i) {
      const auto& e = write.events[i];
      const auto check = [&](std::string_view value, std::string_view name) {
        if (!is_storable_utf8(value)) {
          throw invalid_append(event_field(w, i, name),
                               "event " + std::string(name) + " must be valid UTF-8 without NUL");
        }
      };
      check(e.event_id, "event_id");
      check(e.type, "type");
      check(e.data, "data");
      check(e.metadata, "metadata");
    }
  }
  if (key) {
    if (!is_key_part(key->actor, 200)) {
      throw invalid_append("idempotency_key.actor",
                           "the actor of an idempotency key must be 1-200 printable characters");
    }
    if (!is_key_part(key->key, 200)) {
      throw invalid_append("idempotency_key.key",
                           "an idempotency key must be 1-200 printable characters");
    }
    if (key->fingerprint.size() > 1024 || !is_storable_utf8(key->fingerprint)) {
      throw invalid_append("idempotency_key.fingerprint",
                           "an idempotency fingerprint must be valid UTF-8 of at most 1024 bytes");
    }
  }
}

}  // namespace realmkit::infra::postgres_detail

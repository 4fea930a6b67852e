#include "commands/command_handler.hpp"

#include <spdlog/spdlog.h>

namespace realmkit::commands {
namespace {

command_result to_result(const infra::append_result& r) {
  command_result out;
  out.streams = r.streams;
  out.position = r.position;
  out.replayed = r.replayed;
  if (!r.streams.empty()) {
    out.stream_id = r.streams.front().stream_id;
    out.version = r.streams.front().version;
  }
  return out;
}

outcome conflict(const std::string& stream_id, std::int64_t expected, std::int64_t actual) {
  outcome o(domain::rejection{domain::rejection_code::conflict, "expected_version",
                              stream_id + " is at version " + std::to_string(actual) + ", not " +
                                  std::to_string(expected)});
  o.current_version = actual;
  return o;
}

}  // namespace

unit_of_work::entry* unit_of_work::find(const std::string& stream_id) {
  for (auto& e : entries_) {
    if (e.stream_id == stream_id) return &e;
  }
  return nullptr;
}

command_handler::command_handler(infra::event_store& store, command_handler_options options)
    : store_(store), options_(options), cache_(options.cache_capacity) {}

outcome command_handler::run(const command_metadata& meta, const decide_fn& decide) {
  std::optional<infra::idempotency_key> key;
  if (!meta.idempotency_key.empty()) {
    key = infra::idempotency_key{meta.actor.value, meta.idempotency_key,
                                 meta.idempotency_fingerprint};
    if (auto earlier = store_.find_idempotent(*key)) {
      auto result = to_result(*earlier);
      result.replayed = true;
      return result;
    }
  }

  // The first attempt trusts the cache; every later one reads the streams from the store.
  bool fresh = false;
  for (int attempt = 0;; ++attempt) {
    unit_of_work uow(*this, meta, fresh);
    if (auto rejected = decide(uow)) return *rejected;

    bool stale = false;
    for (const auto& [stream, expected] : uow.client_expectations_) {
      const auto* e = uow.find(stream);
      const auto actual = e ? e->loaded_version : 0;
      if (actual == expected) continue;
      if (fresh) return conflict(stream, expected, actual);
      stale = true;  // the cached state may be behind the store: check against the store first
    }
    if (stale) {
      fresh = true;
      continue;
    }

    std::vector<infra::stream_write> writes;
    std::vector<unit_of_work::entry*> written;
    for (auto& e : uow.entries_) {
      if (e.pending.empty()) continue;
      writes.push_back({e.stream_id, e.loaded_version, std::move(e.pending)});
      written.push_back(&e);
    }

    if (writes.empty()) {
      // A no-op: nothing to append; answer with the primary stream as it stands, and the
      // position of its last event, so that a read with that min_position shows this state.
      command_result result;
      if (auto* primary = uow.find(uow.primary_stream_)) {
        result.stream_id = primary->stream_id;
        result.version = primary->loaded_version;
        result.position = primary->loaded_position;
      }
      return result;
    }

    try {
      const auto appended = store_.append(writes, key);
      for (std::size_t i = 0; i < written.size() && i < appended.streams.size(); ++i) {
        if (!appended.replayed) {
          written[i]->publish(cache_, appended.streams[i].version,
                              appended.streams[i].last_position);
        }
      }
      return to_result(appended);
    } catch (const infra::wrong_expected_version& e) {
      for (const auto& [stream, expected] : uow.client_expectations_) {
        if (stream == e.stream_id()) return conflict(stream, expected, e.actual());
      }
      if (attempt >= options_.max_conflict_retries) {
        spdlog::warn("command gave up after {} conflicts on {}", attempt + 1, e.stream_id());
        outcome o(
            domain::rejection{domain::rejection_code::conflict, "",
                              "too many concurrent changes to " + e.stream_id() + "; try again"});
        o.current_version = e.actual();
        return o;
      }
      fresh = true;
    }
  }
}

}  // namespace realmkit::commands

// The auditors' command line: `realmkit replay` (an entity's state or events as of a time or a
// version, or a fold of the whole log) and `realmkit export` (the log as NDJSON envelopes,
// streamed in constant memory and resumable by position). Both only read the store.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "infra/store_factory.hpp"

namespace realmkit::app {

struct replay_options {
  std::string stream;  // empty with `all`
  bool all = false;    // fold every entity stream of the log, print a summary
  std::string as_of;   // RFC 3339; empty: now
  std::optional<std::int64_t> version;
  bool events = false;  // print the events folded (NDJSON) instead of the state
};

// Prints one JSON document (the state), or NDJSON envelopes with `events`, or the summary of a
// whole-log replay. Throws cli_error for bad input: an unknown stream, as_of malformed or in the
// future, a version the stream has not reached, both as_of and version.
int replay(const infra::store_config& store, const replay_options& options, std::ostream& out,
           std::ostream& err);

struct export_options {
  std::string from;  // RFC 3339: events recorded at or after it; empty: from the first
  std::string to;    // RFC 3339: events recorded at or before it; empty: up to the head at start
  std::int64_t after_position = 0;  // resume: only events after this global position
};

// Writes one envelope per line (docs/events.md; each carries its global_position), in global
// order, reading a bounded batch at a time. On `err`, the range written and how to resume.
int export_log(const infra::store_config& store, const export_options& options, std::ostream& out,
               std::ostream& err);

}  // namespace realmkit::app

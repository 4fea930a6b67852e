#include "app/audit_commands.hpp"

#include <chrono>
#include <ostream>

#include "api/audit/entity_history.hpp"
#include "api/audit/log_reader.hpp"
#include "app/private_log.hpp"
#include "app/user_command.hpp"
#include "infra/event_envelope.hpp"
#include "infra/json/json_time.hpp"

namespace realmkit::app {
namespace {

namespace audit = api::audit;

infra::timestamp now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::optional<infra::timestamp> past_time(const std::string& text, const char* flag) {
  if (text.empty()) return std::nullopt;
  const auto t = infra::parse_timestamp(text);
  if (!t) {
    throw cli_error(std::string(flag) +
                    " must be an RFC 3339 date-time, e.g. 2026-11-27T12:00:00Z");
  }
  if (*t > now()) throw cli_error(std::string(flag) + " is in the future: history ends now");
  return t;
}

std::string time_text(infra::timestamp t) {
  return infra::format_timestamp(t).value_or("");
}

int replay_all(infra::event_store& store, const replay_options& options, std::ostream& out) {
  const auto as_of = past_time(options.as_of, "--as-of");
  const auto upto = as_of ? audit::position_at(store, *as_of) : store.head_position();
  audit::log_replayer replayer(audit::kReplayThreads);
  const auto started = std::chrono::steady_clock::now();
  audit::scan_log_pages(store, 0, upto, [&](std::span<const infra::recorded_event> events) {
    replayer.apply(events);
    return true;
  });
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  const auto events = replayer.applied() + replayer.skipped();
  out << "{\"position\":" << upto << ",\"events\":" << events
      << ",\"entity_events\":" << replayer.applied() << ",\"streams\":" << replayer.streams()
      << ",\"seconds\":" << took.count() << ",\"events_per_second\":"
      << static_cast<std::int64_t>(took.count() > 0 ? events / took.count() : 0) << "}\n";
  return 0;
}

}  // namespace

int replay(const infra::store_config& config, const replay_options& options, std::ostream& out,
           std::ostream&) {
  if (options.all == !options.stream.empty()) throw cli_error("give --stream or --all");
  if (!options.as_of.empty() && options.version) {
    throw cli_error("give --as-of or --version, not both");
  }
  auto store_config = config;
  store_config.apply_migrations = false;
  auto stored = infra::open_event_store(store_config);
  private_log log(*stored, store_config);
  auto* store = &log.store();  // personal fields opened, or erased
  if (options.all) return replay_all(*store, options, out);

  audit::replay_bound bound;
  bound.as_of = past_time(options.as_of, "--as-of");
  const auto current = store->stream_version(options.stream);
  if (current == 0) throw cli_error("no event is stored in stream " + options.stream);
  if (options.version) {
    if (*options.version < 1 || *options.version > current) {
      throw cli_error("--version must be from 1 to " + std::to_string(current) +
                      " (the stream's version)");
    }
    bound.version = options.version;
  }

  if (options.events) {
    for (std::int64_t from = 1;;) {
      const auto events = store->read_stream(options.stream, from, 1'000);
      for (const auto& e : events) {
        if ((bound.version && e.stream_version > *bound.version) ||
            (bound.as_of && e.recorded_at > *bound.as_of)) {
          return 0;
        }
        out << infra::encode_envelope(e) << '\n';
      }
      if (events.size() < 1'000) return 0;
      from = events.back().stream_version + 1;
    }
  }

  const auto snap = audit::replay_entity(*store, options.stream, bound);
  if (!snap) {
    throw cli_error("stream " + options.stream +
                    " is not an entity's: print its events with --events");
  }
  out << "{\"stream_id\":\"" << snap->stream_id << "\",\"kind\":\"" << snap->kind
      << "\",\"version\":" << snap->version << ",\"position\":" << snap->position
      << ",\"recorded_at\":"
      << (snap->recorded_at ? "\"" + time_text(*snap->recorded_at) + "\"" : "null")
      << ",\"stream_version\":" << snap->stream_version
      << ",\"exists\":" << (snap->exists ? "true" : "false") << ",\"state\":" << snap->state
      << "}\n";
  return 0;
}

int export_log(const infra::store_config& config, const export_options& options, std::ostream& out,
               std::ostream& err) {
  if (options.after_position < 0) throw cli_error("--after-position must not be negative");
  const auto from = past_time(options.from, "--from");
  const auto to = past_time(options.to, "--to");
  if (from && to && *from > *to) throw cli_error("--from is after --to");
  auto store_config = config;
  store_config.apply_migrations = false;
  auto stored = infra::open_event_store(store_config);
  private_log log(*stored, store_config);
  auto* store = &log.store();  // personal fields opened, or erased

  std::int64_t after = options.after_position;
  if (from)
    after = std::max(after, audit::position_at(*store, *from - std::chrono::microseconds(1)));
  // The end is fixed when the export starts, so an export of a live store ends.
  const auto upto = to ? audit::position_at(*store, *to) : store->head_position();
  std::string line;
  std::int64_t written = 0;
  std::int64_t last = after;  // the last position written out whole
  audit::scan_log_ahead(*store, after, upto, [&](const infra::recorded_event& e) {
    line.clear();
    infra::encode_envelope(e, line);
    line += '\n';
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
    if (!out) return false;
    last = e.global_position;
    ++written;
    return true;
  });
  out.flush();
  if (!out) {
    err << "realmkit: writing stopped after position " << last << "; resume with --after-position "
        << last << "\n";
    return 1;
  }
  err << "exported " << written << " events, positions " << (written ? after + 1 : after) << " to "
      << last << " (resume after it with --after-position " << last << ")\n";
  return 0;
}

}  // namespace realmkit::app

// Audit reads are themselves audited: one JSON line per read of the history, on the
// "realmkit.audit" logger, saying who read what.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spdlog {
class logger;
}

namespace realmkit::api::audit {

inline constexpr std::string_view kAuditLoggerName = "realmkit.audit";

struct audit_read {
  std::string_view route;  // the route's name, e.g. "audit.stream_events"
  std::string_view user_id;
  std::string_view role;
  std::string_view request_id;
  std::string_view remote;
  std::string_view target;  // the stream, pipeline or correlation read; empty for the feed
  // The query parameters as sent (filters, as_of): what was asked is part of what was read.
  const std::vector<std::pair<std::string, std::string>>* query = nullptr;
  std::size_t items = 0;  // events, changes or cards returned
};

// {"ts":…,"level":"info","logger":"audit","event":"audit.read","route":…,"user_id":…,"role":…,
//  "request_id":…,"remote":…,"target":…,"query":{…},"items":…}
std::string format_audit_read(const audit_read& read, std::chrono::system_clock::time_point now);

// The registered "realmkit.audit" logger (tests register their own), or a new one on stderr
// whose lines are the records as they are.
std::shared_ptr<spdlog::logger> audit_logger();

// Writes the line.
void log_audit_read(const audit_read& read);

}  // namespace realmkit::api::audit

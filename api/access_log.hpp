// The access log: one JSON object per request on its own line, on the "realmkit.access" logger.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace realmkit::api {

inline constexpr std::string_view kAccessLoggerName = "realmkit.access";

struct access_record {
  std::string_view method;
  std::string_view route;  // the route's name; "unmatched", "preflight" or "rejected" otherwise
  std::string_view path;   // without the query string, which may carry secrets
  int status = 0;
  std::chrono::microseconds duration{0};
  std::size_t bytes_in = 0;   // request body
  std::size_t bytes_out = 0;  // response body
  std::string_view request_id;
  std::string_view remote;
};

// {"ts":…,"level":"info","logger":"access","method":…,"route":…,"path":…,"status":…,
//  "duration_ms":…,"bytes_in":…,"bytes_out":…,"request_id":…,"remote":…}
std::string format_access_record(const access_record& record,
                                 std::chrono::system_clock::time_point now);

// The registered "realmkit.access" logger (tests register their own), or a new one on stderr
// whose lines are the records as they are.
std::shared_ptr<spdlog::logger> access_logger();

}  // namespace realmkit::api

// Request ids: one per request, echoed in X-Request-Id, written in every log line and problem.
#pragma once

#include <string>
#include <string_view>

namespace realmkit::api {

inline constexpr std::size_t kMaxRequestIdLength = 128;

// 1–128 characters of [A-Za-z0-9._:-]: safe to echo in a header and to write in a log line.
bool is_acceptable_request_id(std::string_view id);

// The client's id when acceptable (a proxy's or the caller's, so traces join up), else a new
// UUIDv7.
std::string request_id_for(const std::string* incoming);

}  // namespace realmkit::api

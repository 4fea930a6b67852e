// The request and response as route code sees them: plain types, no Beast, so that every handler,
// guard and the router are unit-testable without a socket.
#pragma once

#include <any>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace realmkit::api {

// Header names compare case-insensitively (RFC 9110 §5.1).
struct case_insensitive_less {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};
bool iequals(std::string_view a, std::string_view b);

// One value per name: repeated request fields are joined with ", " (RFC 9110 §5.3).
using header_map = std::map<std::string, std::string, case_insensitive_less>;

struct http_request {
  std::string method;  // "GET", "POST", ... as sent (methods are case-sensitive)
  std::string target;  // the request target as sent, e.g. "/api/deals?limit=10"
  std::string path;    // the target's path, still percent-encoded, e.g. "/api/deals"
  // The query parameters in order, percent- and '+'-decoded. A name may repeat.
  std::vector<std::pair<std::string, std::string>> query;
  header_map headers;
  std::string body;
  std::string remote_address;  // the peer's IP address
  std::string request_id;      // assigned before any guard or handler runs
  // Decoded values of the route pattern's {parameters}, filled by the router.
  std::map<std::string, std::string, std::less<>> path_params;
  std::string route_name;  // the matched route's name, filled by the router
  // Set by a guard (authentication) for the handler, e.g. the authenticated principal. Empty for
  // anonymous requests; read it with std::any_cast<const T>(&request.principal).
  std::any principal;

  // The header's value, or nullptr.
  const std::string* header(std::string_view name) const;
  // The first value of a query parameter, or nullopt.
  std::optional<std::string_view> query_param(std::string_view name) const;
  // A path parameter of the matched pattern; empty when the pattern has none of that name.
  std::string_view path_param(std::string_view name) const;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";  // empty: no body type (204, 304)
  header_map headers;
  std::string body;
  // Set-Cookie values, one header field each: unlike other fields they cannot be joined with ", "
  // (RFC 6265 §3), so they do not fit in `headers`.
  std::vector<std::string> cookies;

  static http_response json(int status, std::string body);
  static http_response text(int status, std::string body,
                            std::string content_type = "text/plain; charset=utf-8");
  static http_response empty(int status);
};

// The reason phrase of a status code ("Not Found"); "Unknown" for codes it does not know.
std::string_view status_reason(int status);

// Percent-decodes `in` ("%2F" → "/"); '+' becomes a space when plus_is_space (query strings).
// nullopt for a malformed escape or a decoded NUL byte.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

// Splits a request target into its path and decoded query parameters; false when the target is not
// in origin-form ("/path?query") or the query has a malformed escape.
bool split_target(std::string_view target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query);

}  // namespace realmkit::api

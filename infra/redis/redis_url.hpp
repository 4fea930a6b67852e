// The Redis server address of the distributed mode: redis://[[user]:password@]host[:port][/db].
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace realmkit::infra::redis {

struct redis_url {
  std::string host;
  int port = 6379;
  std::string user;                     // empty: the default user (AUTH with the password only)
  std::optional<std::string> password;  // nullopt: no AUTH
  int db = 0;                           // SELECTed when not 0

  // The URL with the password replaced by ***, for logs and error messages.
  std::string masked() const;

  bool operator==(const redis_url&) const = default;
};

// Throws std::invalid_argument naming what is wrong (scheme, host, port, db, credentials);
// the message never contains the password. User and password may be percent-encoded.
redis_url parse_redis_url(std::string_view url);

// The URL text with any password replaced by ***, even when it does not parse.
std::string masked_redis_url(std::string_view url);

}  // namespace realmkit::infra::redis

// Where the JWT signing keys come from when none are configured: generated once (256 random bits)
// and kept, in a 0600 file beside the SQLite database or in the jwt_keys table of PostgreSQL, so
// that restarts and every process of a deployment sign and verify with the same key. Configured
// keys (REALMKIT_JWT_KEYS, --jwt-keys) take precedence and are the way to rotate.
#pragma once

#include <filesystem>
#include <string>

#include "api/auth/jwt.hpp"
#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::api::auth {

// Where a key set came from, for the start-up log line (which never shows a secret).
enum class key_source { configured, loaded, generated };
std::string_view to_string(key_source source);

struct loaded_keys {
  jwt_keyset keys;
  key_source source;
};

// The key set in the file at `path` ("kid=<base64url secret>", several separated by commas, the
// signing key first). When the file does not exist, a key is generated and the file created
// atomically with mode 0600: of several processes starting at once exactly one key wins and all
// of them use it. Throws std::runtime_error when the file is readable by group or others (the
// key may have leaked: fix the mode and rotate), cannot be read or written, or holds no valid
// key set (the message never contains a secret).
loaded_keys load_or_create_key_file(const std::filesystem::path& path);

// The same with the jwt_keys table (migrations/postgres/0004_jwt_keys.sql) in options.schema,
// migrating it first: the first process inserts a generated key under a table lock, every other
// reads it. The newest key signs. Throws infra::store_unavailable when the server is unreachable.
loaded_keys load_or_create_postgres_keys(const infra::postgres_store_options& options);

}  // namespace realmkit::api::auth

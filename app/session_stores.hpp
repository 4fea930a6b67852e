// Where sessions live for a configured store: the refresh tokens beside the events (the SQLite
// file or the PostgreSQL schema) and the JWT signing keys (configured, or generated once and kept
// beside the data so restarts and other processes agree).
#pragma once

#include <memory>
#include <string>

#include "api/auth/jwt_key_store.hpp"
#include "api/auth/refresh_token_store.hpp"
#include "infra/store_factory.hpp"

namespace realmkit::app {

std::unique_ptr<api::auth::refresh_token_store> open_refresh_token_store(
    const infra::store_config& config);

// `configured`: the text of REALMKIT_JWT_KEYS / --jwt-keys ("kid=<base64url secret>,..."); when
// empty, the key file <data_dir>/jwt-keys (SQLite) or the jwt_keys table (PostgreSQL). Throws
// std::invalid_argument for configured text that is not a valid key set.
api::auth::loaded_keys resolve_jwt_keys(const infra::store_config& config,
                                        const std::string& configured);

}  // namespace realmkit::app

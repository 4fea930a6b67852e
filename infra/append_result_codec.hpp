// The stored form of an append's result, kept with an idempotency key so that a retry is answered
// with the first result. Shared by every store backend, so both store the same text.
#pragma once

#include <string>
#include <string_view>

#include "infra/event_store.hpp"

namespace realmkit::infra {

// {"streams":[{"stream_id","version","last_position"}],"position"}
std::string encode_append_result(const append_result& result);
// Throws store_error when the text is not a result written by encode_append_result.
append_result decode_append_result(std::string_view json);

}  // namespace realmkit::infra

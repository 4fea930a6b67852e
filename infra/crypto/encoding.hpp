// Text encodings of binary data for tokens and stored digests: strict unpadded base64url
// (RFC 4648 §5, as JWTs use it), padded standard base64 (RFC 4648 §4, as some webhook signatures
// use it) and lowercase hex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace realmkit::infra::crypto {

// Unpadded base64url of `bytes`.
std::string base64url_encode(std::string_view bytes);

// The bytes of unpadded base64url text, or nullopt when the text is not canonical: padding '=',
// characters outside [A-Za-z0-9_-], whitespace, a length of 4n+1, or non-zero unused trailing
// bits (so every byte string has exactly one accepted encoding).
std::optional<std::string> base64url_decode(std::string_view text);

// True when `text` is canonical unpadded base64url (what base64url_decode accepts).
bool is_base64url(std::string_view text);

// Padded standard base64 of `bytes` ("+", "/", "=").
std::string base64_encode(std::string_view bytes);

std::string hex_encode(std::string_view bytes);

}  // namespace realmkit::infra::crypto

// Randomness from the operating system's CSPRNG (through libsodium), for secrets and tokens.
#pragma once

#include <cstddef>
#include <string>

namespace realmkit::infra::crypto {

// Initializes libsodium once (thread safe); every function of infra/crypto calls it. Throws
// std::runtime_error when the library cannot initialize (no entropy source).
void ensure_sodium();

// `count` random bytes.
std::string random_bytes(std::size_t count);

// An opaque unguessable token: `bytes` random bytes (32 = 256 bits by default) as unpadded
// base64url, 43 characters for 32 bytes.
std::string random_token(std::size_t bytes = 32);

}  // namespace realmkit::infra::crypto

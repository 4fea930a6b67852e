#include "infra/crypto/mac.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <stdexcept>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/random.hpp"

namespace realmkit::infra::crypto {
namespace {

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

sha256_digest hmac_sha256(std::string_view key, std::string_view message) {
  ensure_sodium();
  // The multi-part API takes keys of any length; the one-shot crypto_auth_hmacsha256 wants
  // exactly 32 bytes.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, bytes_of(key), key.size());
  crypto_auth_hmacsha256_update(&state, bytes_of(message), message.size());
  sha256_digest mac{};
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  return mac;
}

sha1_digest hmac_sha1(std::string_view key, std::string_view message) {
  sha1_digest mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), bytes_of(message), message.size(),
           mac.data(), &length) == nullptr ||
      length != mac.size()) {
    throw std::runtime_error("HMAC-SHA-1 failed");
  }
  return mac;
}

sha256_digest sha256(std::string_view data) {
  ensure_sodium();
  sha256_digest digest{};
  crypto_hash_sha256(digest.data(), bytes_of(data), data.size());
  return digest;
}

std::string sha256_hex(std::string_view data) {
  return hex_encode(as_bytes(sha256(data)));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  ensure_sodium();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace realmkit::infra::crypto

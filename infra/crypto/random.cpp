#include "infra/crypto/random.hpp"

#include <sodium.h>

#include <stdexcept>

#include "infra/crypto/encoding.hpp"

namespace realmkit::infra::crypto {

void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    return true;
  }();
  (void)ready;
}

std::string random_bytes(std::size_t count) {
  ensure_sodium();
  std::string out(count, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string random_token(std::size_t bytes) {
  return base64url_encode(random_bytes(bytes));
}

}  // namespace realmkit::infra::crypto

#include "infra/ids.hpp"

#include <pthread.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace realmkit::infra {
namespace {

// Bumped in a forked child, so that its threads draw fresh bytes instead of repeating the
// parent's buffered ones.
std::atomic<std::uint64_t> fork_generation{0};

void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    ::pthread_atfork(nullptr, nullptr,
                     [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)ready;
}

// Random bytes from the system's CSPRNG, drawn 4 KiB at a time per thread: a getrandom system
// call for every id cost more than the rest of making it.
void random_bytes(unsigned char* out, std::size_t n) {
  struct pool {
    std::array<unsigned char, 4096> bytes{};
    std::size_t used = 4096;
    std::uint64_t generation = 0;
  };
  thread_local pool p;
  const auto generation = fork_generation.load(std::memory_order_relaxed);
  if (p.used + n > p.bytes.size() || p.generation != generation) {
    randombytes_buf(p.bytes.data(), p.bytes.size());
    p.used = 0;
    p.generation = generation;
  }
  std::memcpy(out, p.bytes.data() + p.used, n);
  sodium_memzero(p.bytes.data() + p.used, n);  // handed out once, and not kept
  p.used += n;
}

}  // namespace

std::string new_uuid_v7() {
  ensure_sodium();
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  std::array<unsigned char, 16> b{};
  random_bytes(b.data() + 6, b.size() - 6);  // the first 6 bytes are the time
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0F]);
  }
  return out;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace realmkit::infra

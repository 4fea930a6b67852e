#include "infra/audit/event_chain.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace realmkit::infra::audit {
namespace {

// Versioned, so a future change of the framing cannot be confused with this one.
constexpr std::string_view kDomain = "realmkit.event-chain.v1";

// SHA-256 through OpenSSL, which uses the CPU's SHA extensions where it has them: three times
// libsodium's portable code on this machine, and every append and every verify hashes each event.
// The algorithm is the same, so the links are too.
class sha256 {
 public:
  sha256() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    // One context per thread, reused: a link is hashed per event appended or verified.
    thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
        EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    ctx_ = ctx.get();
    if (!md || !ctx_ || EVP_DigestInit_ex(ctx_, md, nullptr) != 1) {
      throw std::runtime_error("SHA-256 is unavailable");
    }
  }
  void update(const void* data, std::size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  chain_hash digest() {
    chain_hash out{};
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx_, out.data(), &n) != 1 || n != out.size()) {
      throw std::runtime_error("SHA-256 failed");
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

void put_u64(sha256& state, std::uint64_t value) {
  std::array<unsigned char, 8> bytes{};
  for (int i = 7; i >= 0; --i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(value & 0xff);
    value >>= 8;
  }
  state.update(bytes.data(), bytes.size());
}

// Length-prefixed, so field boundaries cannot move ("ab"+"c" and "a"+"bc" hash differently).
void put_text(sha256& state, std::string_view text) {
  put_u64(state, text.size());
  state.update(text.data(), text.size());
}

// A table, not comparisons: every event read from PostgreSQL decodes 64 digits, and with the
// comparisons' unpredictable branches this was a tenth of a whole-log replay's time.
constexpr std::array<std::int8_t, 256> kHexDigits = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<std::int8_t>(c - 'A' + 10);
  return t;
}();

}  // namespace

chain_hash chain_link(const chain_hash& previous, std::int64_t global_position,
                      std::string_view event_id, std::string_view stream_id,
                      std::int64_t stream_version, std::string_view type, int schema_version,
                      timestamp recorded_at, std::string_view data, std::string_view metadata) {
  sha256 state;
  put_text(state, kDomain);
  state.update(previous.data(), previous.size());
  put_u64(state, static_cast<std::uint64_t>(global_position));
  put_text(state, event_id);
  put_text(state, stream_id);
  put_u64(state, static_cast<std::uint64_t>(stream_version));
  put_text(state, type);
  put_u64(state, static_cast<std::uint64_t>(schema_version));
  put_u64(state, static_cast<std::uint64_t>(recorded_at.time_since_epoch().count()));
  put_text(state, data);
  put_text(state, metadata);
  return state.digest();
}

chain_hash chain_link(const chain_hash& previous, const recorded_event& e) {
  return chain_link(previous, e.global_position, e.event_id, e.stream_id, e.stream_version, e.type,
                    e.schema_version, e.recorded_at, e.data, e.metadata);
}

std::string to_hex(const chain_hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(hash.size() * 2);
  for (const auto b : hash) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

std::optional<chain_hash> chain_hash_from_hex(std::string_view hex) {
  chain_hash out{};
  if (hex.size() != out.size() * 2) return std::nullopt;
  int invalid = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = kHexDigits[static_cast<unsigned char>(hex[2 * i])];
    const int lo = kHexDigits[static_cast<unsigned char>(hex[2 * i + 1])];
    invalid |= hi | lo;  // negative once any digit is not one
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  if (invalid < 0) return std::nullopt;
  return out;
}

std::optional<chain_break> chain_verifier::feed(const recorded_event& event) {
  const auto expected_position = position_ + 1;
  if (event.global_position != expected_position) {
    if (event.global_position > expected_position) {
      return chain_break{expected_position, "missing: the log goes on at position " +
                                                std::to_string(event.global_position)};
    }
    return chain_break{event.global_position, "out of order: position " +
                                                  std::to_string(event.global_position) +
                                                  " follows " + std::to_string(position_)};
  }
  if (!event.hash) {
    return chain_break{event.global_position, "the event has no chain hash"};
  }
  const auto computed = chain_link(hash_, event);
  if (computed != *event.hash) {
    return chain_break{event.global_position,
                       "hash mismatch: the event or its predecessor was changed (stored " +
                           to_hex(*event.hash) + ", computed " + to_hex(computed) + ")"};
  }
  position_ = event.global_position;
  hash_ = computed;
  return std::nullopt;
}

}  // namespace realmkit::infra::audit

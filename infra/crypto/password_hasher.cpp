#include "infra/crypto/password_hasher.hpp"

#include <sodium.h>

#include <charconv>
#include <stdexcept>

#include "infra/crypto/random.hpp"

namespace realmkit::infra::crypto {
namespace {

// Code points of valid UTF-8 (overlongs, surrogates and values past U+10FFFF refused), or
// nullopt when the text is not valid UTF-8.
std::optional<std::size_t> utf8_code_points(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      length = 1;
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      length = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      length = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      length = 4;
      cp = b & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + length > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < length; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (c & 0x3F);
    }
    constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    i += length;
    ++count;
  }
  return count;
}

bool is_whitespace_only(std::string_view text) {
  // ASCII whitespace plus the common Unicode spaces (NBSP, ideographic space, ...): a password
  // of only those looks empty to its owner and to anyone watching.
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == ' ' || (b >= 0x09 && b <= 0x0D)) {
      ++i;
    } else if (text.substr(i, 2) == "\xC2\xA0" || text.substr(i, 2) == "\xC2\x85") {
      i += 2;
    } else if (text.substr(i, 3) == "\xE3\x80\x80" || text.substr(i, 3) == "\xE2\x80\xAF" ||
               text.substr(i, 3) == "\xE2\x81\x9F" ||
               (text.substr(i, 2) == "\xE2\x80" && i + 2 < text.size() &&
                static_cast<unsigned char>(text[i + 2]) <= 0x8A)) {
      i += 3;  // U+3000, U+202F, U+205F, U+2000..U+200A
    } else {
      return false;
    }
  }
  return true;
}

bool parse_uint(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool within_verify_limits(const argon2id_params& p) {
  return p.iterations >= 1 && p.iterations <= password_hasher::kMaxIterations &&
         p.memory_bytes <= password_hasher::kMaxMemoryBytes;
}

}  // namespace

std::optional<domain::rejection> check_password_policy(std::string_view password,
                                                       std::string_view field) {
  const std::string name(field);
  if (password.size() > kMaxPasswordBytes) {
    return domain::invalid(name,
                           "must be at most " + std::to_string(kMaxPasswordBytes) + " bytes long");
  }
  const auto chars = utf8_code_points(password);
  if (!chars) return domain::invalid(name, "must be valid UTF-8 text");
  if (password.find('\0') != std::string_view::npos) {
    return domain::invalid(name, "must not contain a NUL character");
  }
  if (*chars < kMinPasswordChars) {
    return domain::invalid(
        name, "must be at least " + std::to_string(kMinPasswordChars) + " characters long");
  }
  if (is_whitespace_only(password)) return domain::invalid(name, "must not be only whitespace");
  return std::nullopt;
}

std::optional<argon2id_params> parse_argon2id_params(std::string_view phc) {
  constexpr std::string_view kPrefix = "$argon2id$v=19$";
  if (!phc.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = phc.substr(kPrefix.size());
  const auto end = rest.find('$');
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view params = rest.substr(0, end);
  std::uint64_t values[3];
  constexpr std::string_view kKeys[] = {"m=", "t=", "p="};
  for (int i = 0; i < 3; ++i) {
    if (!params.starts_with(kKeys[i])) return std::nullopt;
    params.remove_prefix(2);
    const auto comma = params.find(',');
    if ((i < 2) != (comma != std::string_view::npos)) return std::nullopt;
    if (!parse_uint(params.substr(0, comma), values[i])) return std::nullopt;
    params = i < 2 ? params.substr(comma + 1) : std::string_view{};
  }
  if (values[2] != 1 || values[0] > (std::uint64_t{1} << 32)) return std::nullopt;
  return argon2id_params{values[1], static_cast<std::size_t>(values[0]) * 1024};
}

password_hasher::password_hasher(argon2id_params params) : params_(params) {
  if (params.iterations < kOwaspMinimum.iterations ||
      params.memory_bytes < kOwaspMinimum.memory_bytes) {
    throw std::invalid_argument("argon2id parameters below OWASP's minimum (m=19 MiB, t=2, p=1)");
  }
  if (!within_verify_limits(params)) {
    throw std::invalid_argument("argon2id parameters above what verification accepts");
  }
  ensure_sodium();
  dummy_hash_ = hash(random_bytes(16));
}

std::string password_hasher::hash(std::string_view password) const {
  if (password.size() > kMaxPasswordBytes) {
    throw std::invalid_argument("password longer than " + std::to_string(kMaxPasswordBytes) +
                                " bytes");
  }
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params_.iterations,
                            params_.memory_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id hashing failed: out of memory");
  }
  return out;
}

bool password_hasher::verify(std::string_view phc, std::string_view password) const {
  if (password.size() > kMaxPasswordBytes || phc.size() >= crypto_pwhash_STRBYTES) return false;
  const auto params = parse_argon2id_params(phc);
  if (!params || !within_verify_limits(*params)) return false;
  ensure_sodium();
  char stored[crypto_pwhash_STRBYTES] = {};  // libsodium wants a NUL-terminated string
  phc.copy(stored, phc.size());
  return crypto_pwhash_str_verify(stored, password.data(), password.size()) == 0;
}

void password_hasher::verify_dummy(std::string_view password) const {
  // The same path as a real verify, early refusal of an oversized password included.
  (void)verify(dummy_hash_, password);
}

bool password_hasher::needs_rehash(std::string_view phc) const {
  if (phc.size() >= crypto_pwhash_STRBYTES) return true;
  ensure_sodium();
  char stored[crypto_pwhash_STRBYTES] = {};
  phc.copy(stored, phc.size());
  // 1: other parameters, -1: not an argon2id string of this library; either way, rehash.
  return crypto_pwhash_str_needs_rehash(stored, params_.iterations, params_.memory_bytes) != 0;
}

}  // namespace realmkit::infra::crypto

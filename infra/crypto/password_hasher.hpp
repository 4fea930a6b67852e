// Password storage: argon2id PHC strings through libsodium, the password policy, and the dummy
// verification that keeps a login for an unknown account as slow as one for a known account.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/common/types.hpp"

namespace realmkit::infra::crypto {

// argon2id cost. libsodium always uses one lane (p=1).
struct argon2id_params {
  std::uint64_t iterations = 3;                  // t
  std::size_t memory_bytes = 19u * 1024 * 1024;  // m, in bytes (19 MiB = m=19456 KiB)

  bool operator==(const argon2id_params&) const = default;
};

// OWASP's minimum for argon2id (m=19 MiB, t=2, p=1): no configuration may go below it.
inline constexpr argon2id_params kOwaspMinimum{2, 19u * 1024 * 1024};
// What RealmKit hashes with: OWASP's memory with one more pass, about 63 ms of CPU on the 2-core
// reference machine (docs/security.md has the measurements).
inline constexpr argon2id_params kDefaultArgon2id{3, 19u * 1024 * 1024};

inline constexpr std::size_t kMinPasswordChars = 12;   // Unicode code points
inline constexpr std::size_t kMaxPasswordBytes = 256;  // UTF-8 bytes; bounds the hashing work

// nullopt when `password` may be set as a new password; otherwise why not, naming `field`:
// fewer than 12 characters (code points, so a non-Latin password is not penalised), more than
// 256 bytes, not valid UTF-8, a NUL character, or only whitespace. No composition rules (NIST
// SP 800-63B): length is what counts.
std::optional<domain::rejection> check_password_policy(std::string_view password,
                                                       std::string_view field = "password");

// The parameters of an argon2id PHC string "$argon2id$v=19$m=<KiB>,t=<t>,p=<p>$salt$hash", or
// nullopt when it is not one.
std::optional<argon2id_params> parse_argon2id_params(std::string_view phc);

class password_hasher {
 public:
  // Throws std::invalid_argument for parameters below kOwaspMinimum (or above what verify()
  // accepts). Computes one dummy hash for verify_dummy().
  explicit password_hasher(argon2id_params params = kDefaultArgon2id);

  // A new PHC string with a fresh random salt. Throws std::invalid_argument for a password over
  // kMaxPasswordBytes (the policy is checked by the caller, which knows the field name), and
  // std::runtime_error when the memory cannot be allocated.
  std::string hash(std::string_view password) const;

  // True when `password` matches `phc`. False, never an exception, for a malformed or non-argon2id
  // hash, a password over kMaxPasswordBytes, or a hash whose cost exceeds the limits below (a
  // tampered row must not make the server allocate gigabytes). The comparison inside libsodium is
  // constant time.
  bool verify(std::string_view phc, std::string_view password) const;

  // Runs a verification as costly as a real one against a hash of nothing, and discards the
  // answer: a login for an unknown email takes as long as one for a known email.
  void verify_dummy(std::string_view password) const;

  // True when `phc` was made with other parameters than this hasher's (or is not an argon2id
  // string at all): rehash the password after the next successful login.
  bool needs_rehash(std::string_view phc) const;

  const argon2id_params& params() const { return params_; }

  // Upper bounds accepted by verify().
  static constexpr std::uint64_t kMaxIterations = 64;
  static constexpr std::size_t kMaxMemoryBytes = std::size_t{1} << 30;

 private:
  argon2id_params params_;
  std::string dummy_hash_;
};

}  // namespace realmkit::infra::crypto

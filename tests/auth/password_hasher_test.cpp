// Password hashing: argon2id PHC strings, verification, rehash detection, cost limits, and the
// password policy.
#include "infra/crypto/password_hasher.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "domain/user/user_state.hpp"

using namespace realmkit;
using namespace realmkit::infra::crypto;
using namespace std::string_literals;

namespace {

// Hashing costs ~70 ms: one hasher for the whole file.
const password_hasher& hasher() {
  static const password_hasher h;
  return h;
}

}  // namespace

TEST_CASE("a hashed password verifies, a different one does not") {
  const auto phc = hasher().hash("correct horse battery staple");
  CHECK(phc.starts_with("$argon2id$v=19$m=19456,t=3,p=1$"));
  CHECK(hasher().verify(phc, "correct horse battery staple"));
  CHECK_FALSE(hasher().verify(phc, "correct horse battery stapl"));
  CHECK_FALSE(hasher().verify(phc, "correct horse battery staple "));
  CHECK_FALSE(hasher().verify(phc, ""));
  // The user aggregate accepts exactly this shape.
  CHECK_FALSE(domain::check_password_hash("password_hash", phc).has_value());
}

TEST_CASE("two hashes of one password differ (a fresh salt each time)") {
  const auto a = hasher().hash("the same password twice");
  const auto b = hasher().hash("the same password twice");
  CHECK(a != b);
  CHECK(hasher().verify(a, "the same password twice"));
  CHECK(hasher().verify(b, "the same password twice"));
}

TEST_CASE("the default cost is at least OWASP's minimum and the hash records it") {
  const auto params = parse_argon2id_params(hasher().hash("a password of some length"));
  REQUIRE(params.has_value());
  CHECK(*params == kDefaultArgon2id);
  CHECK(params->iterations >= kOwaspMinimum.iterations);
  CHECK(params->memory_bytes >= kOwaspMinimum.memory_bytes);
  CHECK_THROWS_AS(password_hasher(argon2id_params{1, 19u << 20}), std::invalid_argument);
  CHECK_THROWS_AS(password_hasher(argon2id_params{2, 8u << 20}), std::invalid_argument);
}

TEST_CASE("verification stays within a reasonable time on this machine") {
  const auto start = std::chrono::steady_clock::now();
  CHECK(hasher().verify(hasher().hash("timing the default cost"), "timing the default cost"));
  const auto took = std::chrono::steady_clock::now() - start;
  // Hash plus verify; a generous bound (shared CI cores, sanitizers), there to catch a cost
  // accidentally raised by orders of magnitude.
  CHECK(took < std::chrono::seconds{10});
}

TEST_CASE("needs_rehash is true for other parameters and for non-argon2id strings") {
  const password_hasher stronger(argon2id_params{4, 19u << 20});
  const auto current = hasher().hash("upgrade me on next login");
  CHECK_FALSE(hasher().needs_rehash(current));
  CHECK(stronger.needs_rehash(current));
  // A hash made with the old parameters still verifies under the new hasher.
  CHECK(stronger.verify(current, "upgrade me on next login"));
  CHECK(hasher().needs_rehash("$2b$12$abcdefghijklmnopqrstuuJ0z1Yc5xQhT8i0a3b4d5e6f7g8h9i0j"));
  CHECK(hasher().needs_rehash(""));
}

TEST_CASE("verify refuses malformed hashes and oversized inputs without throwing") {
  const auto phc = hasher().hash("a perfectly fine password");
  CHECK_FALSE(hasher().verify("", "a perfectly fine password"));
  CHECK_FALSE(hasher().verify("not a hash", "a perfectly fine password"));
  CHECK_FALSE(hasher().verify(phc.substr(0, phc.size() - 5), "a perfectly fine password"));
  CHECK_FALSE(hasher().verify("$argon2i$" + phc.substr(10), "a perfectly fine password"));
  CHECK_FALSE(hasher().verify(phc + std::string(200, 'A'), "a perfectly fine password"));
  // A tampered row asking for 4 GiB of memory is refused before anything is allocated.
  std::string greedy = phc;
  greedy.replace(greedy.find("m=19456"), 7, "m=4194304");
  CHECK_FALSE(hasher().verify(greedy, "a perfectly fine password"));
  std::string slow = phc;
  slow.replace(slow.find("t=3"), 3, "t=100000");
  CHECK_FALSE(hasher().verify(slow, "a perfectly fine password"));
  // A password over the limit never matches, and cannot be hashed.
  CHECK_FALSE(hasher().verify(phc, std::string(kMaxPasswordBytes + 1, 'x')));
  CHECK_THROWS_AS(hasher().hash(std::string(kMaxPasswordBytes + 1, 'x')), std::invalid_argument);
  // The dummy verification runs and answers nothing.
  hasher().verify_dummy("whatever was typed");
}

TEST_CASE("parse_argon2id_params reads libsodium's PHC strings only") {
  const auto p = parse_argon2id_params("$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaA");
  REQUIRE(p.has_value());
  CHECK(p->iterations == 2);
  CHECK(p->memory_bytes == 64u << 20);
  CHECK_FALSE(parse_argon2id_params("$argon2id$v=19$m=65536,t=2,p=4$c2FsdA$aGFzaA"));
  CHECK_FALSE(parse_argon2id_params("$argon2id$v=16$m=65536,t=2,p=1$c2FsdA$aGFzaA"));
  CHECK_FALSE(parse_argon2id_params("$argon2id$v=19$t=2,m=65536,p=1$c2FsdA$aGFzaA"));
  CHECK_FALSE(parse_argon2id_params("$argon2id$v=19$m=-1,t=2,p=1$c2FsdA$aGFzaA"));
  CHECK_FALSE(parse_argon2id_params("$argon2id$v=19$m=65536,t=2,p=1"));
}

TEST_CASE("the password policy: 12 to 256, valid UTF-8, not blank") {
  CHECK_FALSE(check_password_policy("twelve chars").has_value());
  CHECK_FALSE(check_password_policy(std::string(256, 'x')).has_value());
  // Characters are counted, not bytes: 12 Cyrillic letters (24 bytes) pass, 11 do not.
  CHECK_FALSE(check_password_policy("пароль пароль").has_value());
  CHECK(check_password_policy("парольпарол").has_value());

  const auto short_one = check_password_policy("elevenchars");
  REQUIRE(short_one.has_value());
  CHECK(short_one->field == "password");
  CHECK(short_one->reason == "must be at least 12 characters long");
  CHECK(check_password_policy("elevenchars", "new_password")->field == "new_password");

  const auto long_one = check_password_policy(std::string(257, 'x'));
  REQUIRE(long_one.has_value());
  CHECK(long_one->reason == "must be at most 256 bytes long");
  // 129 two-byte characters: few enough characters, too many bytes.
  std::string wide;
  for (int i = 0; i < 129; ++i) wide += "é";
  CHECK(check_password_policy(wide)->reason == "must be at most 256 bytes long");

  CHECK(check_password_policy(std::string(20, ' '))->reason == "must not be only whitespace");
  CHECK(check_password_policy(" \t\n\r \t\n\r \t\n\r")->reason == "must not be only whitespace");
  CHECK(check_password_policy("\xC2\xA0\xC2\xA0\xC2\xA0\xC2\xA0\xC2\xA0\xC2\xA0 \xE3\x80\x80"
                              "\xE3\x80\x80     ")
            ->reason == "must not be only whitespace");
  CHECK_FALSE(check_password_policy("     x      ").has_value());

  CHECK(check_password_policy("bad utf-8 \xff\xfe here")->reason == "must be valid UTF-8 text");
  CHECK(check_password_policy("overlong \xC0\xAF slash")->reason == "must be valid UTF-8 text");
  CHECK(check_password_policy("surrogate \xED\xA0\x80 x")->reason == "must be valid UTF-8 text");
  CHECK(check_password_policy("truncated sequence \xE2\x82")->reason == "must be valid UTF-8 text");
  CHECK(check_password_policy("with a nul \0 inside"s)->reason ==
        "must not contain a NUL character");
}

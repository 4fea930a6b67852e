// infra/crypto: strict base64url, HMAC-SHA-256 and SHA-256 against published vectors, the
// constant-time comparison, random tokens.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/mac.hpp"
#include "infra/crypto/random.hpp"

using namespace realmkit::infra::crypto;
using namespace std::string_literals;

TEST_CASE("base64url encodes without padding and round-trips every length") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("\xfb\xff\xbf") == "-_-_");  // the URL-safe alphabet, not + and /
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    const auto decoded = base64url_decode(base64url_encode(bytes));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == bytes);
    bytes.push_back(static_cast<char>(n * 37));
  }
}

TEST_CASE("base64url decoding refuses every non-canonical form") {
  CHECK(base64url_decode("Zg").value() == "f");
  CHECK_FALSE(base64url_decode("Zg=="));    // padding
  CHECK_FALSE(base64url_decode("Zg="));     // partial padding
  CHECK_FALSE(base64url_decode("Zm9v+w"));  // standard alphabet
  CHECK_FALSE(base64url_decode("Zm9v/w"));
  CHECK_FALSE(base64url_decode("Zm 9v"));  // whitespace
  CHECK_FALSE(base64url_decode("Zm9v\n"));
  CHECK_FALSE(base64url_decode("Z"));   // 4n+1 characters cannot encode bytes
  CHECK_FALSE(base64url_decode("Zh"));  // non-zero unused bits: a second spelling of "f"
  CHECK_FALSE(base64url_decode("Zm9"s + '\0'));
  CHECK_FALSE(base64url_decode("Zm9\xc3\xa9"));
  CHECK(is_base64url(""));
  CHECK_FALSE(is_base64url("a.b"));
}

TEST_CASE("HMAC-SHA-256 matches RFC 4231") {
  // Test case 2: a short key.
  CHECK(hex_encode(as_bytes(hmac_sha256("Jefe", "what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a 131-byte key, longer than the block, is hashed first.
  const std::string long_key(131, '\xaa');
  CHECK(hex_encode(as_bytes(
            hmac_sha256(long_key, "Test Using Larger Than Block-Size Key - Hash Key First"))) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("SHA-256 matches the FIPS 180-2 vector") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("").size() == 64);
}

TEST_CASE("constant_time_equal compares contents and lengths") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("Secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secret!"));
  CHECK_FALSE(constant_time_equal("a\0b"s, "a\0c"s));  // past an embedded NUL too
}

TEST_CASE("random tokens are 256-bit base64url and do not repeat") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto token = random_token();
    CHECK(token.size() == 43);
    CHECK(base64url_decode(token).value().size() == 32);
    seen.insert(token);
  }
  CHECK(seen.size() == 1000);
  CHECK(random_bytes(7).size() == 7);
}

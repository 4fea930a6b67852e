// JWT HS256: signing round trip, key rotation, and every way a token is refused, each with its
// own reason.
#include "api/auth/jwt.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "infra/crypto/encoding.hpp"
#include "tests/auth/auth_test_support.hpp"

using namespace realmkit;
using namespace realmkit::api::auth;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

const std::string kSecret(32, 's');
const std::string kOtherSecret = "another secret of at least thirty-two bytes";
constexpr std::int64_t kNow = 1'735'689'600;  // fake_clock's start
constexpr std::int64_t kLeeway = 30;

struct fixture {
  testing::fake_clock clock;
  jwt_verifier verifier{
      jwt_keyset({{"k1", kSecret}}), {"realmkit", "realmkit-api", 30s}, clock.fn()};

  jwt_error error_of(std::string_view token) const { return verifier.verify(token).error; }
};

// The JSON of a payload: the standard claims of a valid token, with some replaced (raw JSON
// values) or removed (an empty value).
std::string payload(const std::vector<std::pair<std::string, std::string>>& changes = {}) {
  std::vector<std::pair<std::string, std::string>> claims{
      {"iss", "\"realmkit\""},       {"sub", "\"user-1\""},
      {"aud", "\"realmkit-api\""},   {"exp", std::to_string(kNow + 900)},
      {"iat", std::to_string(kNow)}, {"jti", "\"token-1\""},
      {"role", "\"sales_rep\""},     {"team", "\"team-1\""},
  };
  return testing::claims_json(std::move(claims), changes);
}

const std::string kHeader = R"({"alg":"HS256","typ":"JWT","kid":"k1"})";

std::string signed_token(const std::string& header, const std::string& body,
                         const std::string& secret = kSecret) {
  return detail::sign_compact(header, body, secret);
}

std::string with_claims(const std::vector<std::pair<std::string, std::string>>& changes) {
  return signed_token(kHeader, payload(changes));
}

std::string b64(std::string_view s) {
  return infra::crypto::base64url_encode(s);
}

// Replaces one character of a segment (0 header, 1 payload, 2 signature) with `c`.
std::string tamper(std::string token, int segment, std::size_t offset, char c) {
  std::size_t start = 0;
  for (int i = 0; i < segment; ++i) start = token.find('.', start) + 1;
  token[start + offset] = c;
  return token;
}

jwt_claims sample_claims() {
  jwt_claims c;
  c.issuer = "realmkit";
  c.subject = "user-42";
  c.audience = {"realmkit-api"};
  c.issued_at = seconds_time{std::chrono::seconds{kNow}};
  c.expires_at = c.issued_at + 15min;
  c.token_id = "jti-42";
  c.role = domain::user_role::manager;
  c.team_id = "team-7";
  return c;
}

}  // namespace

TEST_CASE("a signed token verifies and yields its claims") {
  fixture f;
  const auto claims = sample_claims();
  const auto token = sign_jwt(claims, {"k1", kSecret});
  const auto result = f.verifier.verify(token);
  REQUIRE_MESSAGE(result.ok(), to_string(result.error) << ": " << result.detail);
  CHECK(result.claims == claims);

  SUBCASE("with nbf, several audiences and no team") {
    auto c = sample_claims();
    c.not_before = c.issued_at;
    c.audience = {"reports", "realmkit-api"};
    c.team_id.reset();
    const auto r = f.verifier.verify(sign_jwt(c, {"k1", kSecret}));
    REQUIRE(r.ok());
    CHECK(r.claims == c);
  }
}

TEST_CASE("the header is exactly alg, typ and kid") {
  const auto token = sign_jwt(sample_claims(), {"k1", kSecret});
  CHECK(*infra::crypto::base64url_decode(token.substr(0, token.find('.'))) == kHeader);
}

TEST_CASE("size and shape are checked before anything is decoded") {
  fixture f;
  SUBCASE("oversized: the largest token that fits passes, one more padding byte does not") {
    std::string fits;
    std::string over;
    for (std::size_t pad = 2000; pad < 3200; ++pad) {
      auto t = with_claims({{"pad", '"' + std::string(pad, 'p') + '"'}});
      if (t.size() <= kMaxTokenBytes) {
        fits = t;
      } else {
        over = t;
        break;
      }
    }
    REQUIRE(!fits.empty());
    REQUIRE(!over.empty());
    CHECK(f.verifier.verify(fits).ok());
    CHECK(f.error_of(over) == jwt_error::too_large);
    // Refused on size alone: garbage that long is not looked at.
    CHECK(f.error_of(std::string(kMaxTokenBytes + 1, '.')) == jwt_error::too_large);
  }
  SUBCASE("segments") {
    const auto good = with_claims({});
    CHECK(f.error_of("") == jwt_error::malformed);
    CHECK(f.error_of("abc") == jwt_error::malformed);
    CHECK(f.error_of(good.substr(0, good.rfind('.'))) == jwt_error::malformed);
    CHECK(f.error_of(good + ".") == jwt_error::malformed);
    CHECK(f.error_of(good + "." + good.substr(good.rfind('.') + 1)) == jwt_error::malformed);
  }
}

TEST_CASE("malformed base64url in any segment") {
  fixture f;
  const auto good = with_claims({});
  const auto dot1 = good.find('.');
  const auto dot2 = good.rfind('.');
  const auto header = good.substr(0, dot1);
  const auto body = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const auto sig = good.substr(dot2 + 1);
  CHECK(f.error_of(header + "=." + body + "." + sig) == jwt_error::bad_base64);  // padding
  CHECK(f.error_of(header + "." + body + "==." + sig) == jwt_error::bad_base64);
  CHECK(f.error_of(header + "." + body + "." + sig + "=") == jwt_error::bad_base64);
  CHECK(f.error_of(tamper(good, 1, 3, '+')) == jwt_error::bad_base64);  // standard alphabet
  CHECK(f.error_of(tamper(good, 0, 2, '/')) == jwt_error::bad_base64);
  CHECK(f.error_of(tamper(good, 2, 5, '*')) == jwt_error::bad_base64);
  CHECK(f.error_of(header + "." + body + " ." + sig) == jwt_error::bad_base64);
  // 43 + 2 = 45 characters: a length of 4n+1 encodes no byte string.
  CHECK(f.error_of(header + "." + body + "." + sig + "AA") == jwt_error::bad_base64);
}

TEST_CASE("the header must be a JSON object without repeated members") {
  fixture f;
  const auto body = b64(payload());
  const auto raw = [&](std::string_view header) { return b64(header) + "." + body + ".AAAA"; };
  CHECK(f.error_of(raw("not json")) == jwt_error::header_not_json);
  CHECK(f.error_of(raw(R"({"alg":"HS256"} trailing)")) == jwt_error::header_not_json);
  CHECK(f.error_of(raw("{\"alg\":\"HS256\",\"typ\":\"\xff\"}")) == jwt_error::header_not_json);
  CHECK(f.error_of(raw(R"({"alg":"HS256",})")) == jwt_error::header_not_json);
  CHECK(f.error_of(raw("")) == jwt_error::header_not_json);
  CHECK(f.error_of(raw(R"(["HS256"])")) == jwt_error::header_not_object);
  CHECK(f.error_of(raw(R"("HS256")")) == jwt_error::header_not_object);
  CHECK(f.error_of(raw(R"({"alg":"HS256","alg":"none"})")) == jwt_error::duplicate_key);
  CHECK(f.error_of(raw(R"({"alg":"none","alg":"HS256"})")) == jwt_error::duplicate_key);
}

TEST_CASE("alg must be exactly HS256") {
  fixture f;
  const auto body = payload();
  CHECK(f.error_of(signed_token(R"({"typ":"JWT"})", body)) == jwt_error::missing_alg);
  // The classic forgery: no signature at all.
  CHECK(f.error_of(b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(body) + ".") ==
        jwt_error::alg_none);
  CHECK(f.error_of(signed_token(R"({"alg":"None"})", body)) == jwt_error::alg_none);
  CHECK(f.error_of(signed_token(R"({"alg":"NONE"})", body)) == jwt_error::alg_none);
  for (const auto* alg : {"HS384", "HS512", "RS256", "ES256", "PS256", "hs256", "Hs256", "HS256 ",
                          " HS256", "HS25", "HS2566", "HS256\\u0000", ""}) {
    CAPTURE(alg);
    CHECK(f.error_of(signed_token(R"({"alg":")"s + alg + "\"}", body)) ==
          jwt_error::alg_not_allowed);
  }
  CHECK(f.error_of(signed_token(R"({"alg":256})", body)) == jwt_error::alg_not_allowed);
  CHECK(f.error_of(signed_token(R"({"alg":["HS256"]})", body)) == jwt_error::alg_not_allowed);
}

TEST_CASE("typ may be absent or JWT; other header parameters are refused") {
  fixture f;
  const auto body = payload();
  CHECK(f.verifier.verify(signed_token(R"({"alg":"HS256"})", body)).ok());
  CHECK(f.verifier.verify(signed_token(R"({"alg":"HS256","typ":"JWT"})", body)).ok());
  CHECK(f.error_of(signed_token(R"({"alg":"HS256","typ":"JWS"})", body)) == jwt_error::bad_typ);
  CHECK(f.error_of(signed_token(R"({"alg":"HS256","typ":"jwt"})", body)) == jwt_error::bad_typ);
  CHECK(f.error_of(signed_token(R"({"alg":"HS256","typ":1})", body)) == jwt_error::bad_typ);
  for (const auto* param : {"crit", "jku", "jwk", "x5u", "x5c", "cty", "b64", "zip"}) {
    CAPTURE(param);
    CHECK(f.error_of(signed_token(R"({"alg":"HS256",")"s + param + R"(":"x"})", body)) ==
          jwt_error::unsupported_header);
  }
}

TEST_CASE("kid selects the key; unknown and non-string kids are refused") {
  fixture f;
  const auto body = payload();
  CHECK(f.error_of(signed_token(R"({"alg":"HS256","kid":7})", body)) == jwt_error::bad_kid);
  CHECK(f.error_of(signed_token(R"({"alg":"HS256","kid":"k9"})", body)) == jwt_error::unknown_kid);
  CHECK(f.error_of(signed_token(R"({"alg":"HS256","kid":""})", body)) == jwt_error::unknown_kid);
}

TEST_CASE("a signature that does not match is refused") {
  fixture f;
  const auto good = with_claims({});
  REQUIRE(f.verifier.verify(good).ok());
  const auto sig_at = good.rfind('.') + 1;
  SUBCASE("one flipped character of the signature") {
    std::string t = good;
    t[sig_at + 10] = t[sig_at + 10] == 'A' ? 'B' : 'A';
    CHECK(f.error_of(t) == jwt_error::bad_signature);
  }
  SUBCASE("signed with another secret") {
    CHECK(f.error_of(signed_token(kHeader, payload(), kOtherSecret)) == jwt_error::bad_signature);
  }
  SUBCASE("a changed payload keeps the old signature") {
    const auto elevated = signed_token(kHeader, payload({{"role", "\"admin\""}}));
    const auto forged = elevated.substr(0, elevated.rfind('.')) + good.substr(sig_at - 1);
    CHECK(f.error_of(forged) == jwt_error::bad_signature);
  }
  SUBCASE("a truncated, an empty and an overlong signature") {
    // 40 characters decode to 30 bytes (no partial group whose spare bits could be set).
    CHECK(f.error_of(good.substr(0, good.size() - 3)) == jwt_error::bad_signature);
    CHECK(f.error_of(good.substr(0, sig_at)) == jwt_error::bad_signature);
    CHECK(f.error_of(good + "AAAA") == jwt_error::bad_signature);
  }
}

TEST_CASE("the payload must be a JSON object without repeated members") {
  fixture f;
  CHECK(f.error_of(signed_token(kHeader, "nope")) == jwt_error::payload_not_json);
  CHECK(f.error_of(signed_token(kHeader, payload() + "x")) == jwt_error::payload_not_json);
  CHECK(f.error_of(signed_token(kHeader, "")) == jwt_error::payload_not_json);
  for (const auto* body : {"[1]", "\"claims\"", "42", "null", "true"}) {
    CAPTURE(body);
    CHECK(f.error_of(signed_token(kHeader, body)) == jwt_error::payload_not_object);
  }
  // Which sub is meant? Two parsers could disagree, so neither is taken.
  CHECK(f.error_of(signed_token(kHeader, payload({{"sub", "\"user-1\",\"sub\":\"admin\""}}))) ==
        jwt_error::duplicate_key);
  CHECK(f.error_of(with_claims({{"extra", R"({"a":1,"a":2})"}})) == jwt_error::duplicate_key);
  // Unknown claims are fine.
  CHECK(f.verifier.verify(with_claims({{"extra", R"({"a":[1,2]})"}})).ok());
}

TEST_CASE("required claims must be present") {
  fixture f;
  CHECK(f.error_of(with_claims({{"exp", ""}})) == jwt_error::missing_exp);
  CHECK(f.error_of(with_claims({{"iat", ""}})) == jwt_error::missing_iat);
  CHECK(f.error_of(with_claims({{"sub", ""}})) == jwt_error::missing_sub);
  CHECK(f.error_of(with_claims({{"sub", "\"\""}})) == jwt_error::missing_sub);
  CHECK(f.error_of(with_claims({{"jti", ""}})) == jwt_error::missing_jti);
  CHECK(f.error_of(with_claims({{"jti", "\"\""}})) == jwt_error::missing_jti);
  CHECK(f.error_of(with_claims({{"iss", ""}})) == jwt_error::missing_iss);
  CHECK(f.error_of(with_claims({{"aud", ""}})) == jwt_error::missing_aud);
  CHECK(f.error_of(with_claims({{"role", ""}})) == jwt_error::missing_role);
  // team is optional, and null means none.
  CHECK(f.verifier.verify(with_claims({{"team", ""}})).ok());
  const auto no_team = f.verifier.verify(with_claims({{"team", "null"}}));
  REQUIRE(no_team.ok());
  CHECK_FALSE(no_team.claims.team_id.has_value());
}

TEST_CASE("claims of the wrong type") {
  fixture f;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"exp", "\"1735690500\""},
      {"exp", "1735690500.5"},
      {"exp", "-1"},
      {"exp", "253402300800"},  // past 9999-12-31
      {"exp", "1e20"},
      {"iat", "null"},
      {"nbf", "\"soon\""},
      {"sub", "42"},
      {"jti", "[\"a\"]"},
      {"iss", "{}"},
      {"aud", "5"},
      {"aud", "[]"},
      {"aud", "[\"realmkit-api\", 1]"},
      {"role", "1"},
      {"team", "7"},
  };
  for (const auto& [name, value] : cases) {
    CAPTURE(name);
    CAPTURE(value);
    CHECK(f.error_of(with_claims({{name, value}})) == jwt_error::bad_claim_type);
  }
}

TEST_CASE("role must be one of the five roles") {
  fixture f;
  CHECK(f.error_of(with_claims({{"role", "\"superuser\""}})) == jwt_error::unknown_role);
  CHECK(f.error_of(with_claims({{"role", "\"Admin\""}})) == jwt_error::unknown_role);
  CHECK(f.error_of(with_claims({{"role", "\"\""}})) == jwt_error::unknown_role);
  for (const auto* role : {"admin", "manager", "sales_rep", "analyst", "auditor"}) {
    CHECK(f.verifier.verify(with_claims({{"role", "\""s + role + "\""}})).ok());
  }
}

TEST_CASE("time claims, with the leeway at each boundary") {
  fixture f;
  const auto at = [](std::int64_t t) { return std::to_string(t); };
  SUBCASE("exp") {
    CHECK(f.error_of(with_claims({{"exp", at(kNow - kLeeway)}})) == jwt_error::expired);
    CHECK(f.verifier.verify(with_claims({{"exp", at(kNow - kLeeway + 1)}})).ok());
    const auto token = with_claims({{"exp", at(kNow + 60)}});
    CHECK(f.verifier.verify(token).ok());
    f.clock.advance(std::chrono::seconds{60 + kLeeway} - 1us);
    CHECK(f.verifier.verify(token).ok());
    f.clock.advance(1us);
    CHECK(f.error_of(token) == jwt_error::expired);
  }
  SUBCASE("nbf") {
    CHECK(f.error_of(with_claims({{"nbf", at(kNow + kLeeway + 1)}})) == jwt_error::not_yet_valid);
    CHECK(f.verifier.verify(with_claims({{"nbf", at(kNow + kLeeway)}})).ok());
    const auto token = with_claims({{"nbf", at(kNow + 600)}, {"iat", at(kNow + 600)}});
    CHECK(f.error_of(token) == jwt_error::not_yet_valid);
    f.clock.advance(std::chrono::seconds{600 - kLeeway});
    CHECK(f.verifier.verify(token).ok());
  }
  SUBCASE("iat") {
    CHECK(f.error_of(with_claims({{"iat", at(kNow + kLeeway + 1)}})) ==
          jwt_error::issued_in_future);
    CHECK(f.verifier.verify(with_claims({{"iat", at(kNow + kLeeway)}})).ok());
  }
  SUBCASE("no leeway") {
    jwt_verifier strict(jwt_keyset({{"k1", kSecret}}), {"realmkit", "realmkit-api", 0s},
                        f.clock.fn());
    CHECK(strict.verify(with_claims({{"exp", at(kNow)}})).error == jwt_error::expired);
    CHECK(strict.verify(with_claims({{"exp", at(kNow + 1)}})).ok());
    CHECK(strict.verify(with_claims({{"iat", at(kNow + 1)}})).error == jwt_error::issued_in_future);
  }
}

TEST_CASE("issuer and audience must match") {
  fixture f;
  CHECK(f.error_of(with_claims({{"iss", "\"evil\""}})) == jwt_error::wrong_issuer);
  CHECK(f.error_of(with_claims({{"iss", "\"realmkit \""}})) == jwt_error::wrong_issuer);
  CHECK(f.error_of(with_claims({{"iss", "\"REALMKIT\""}})) == jwt_error::wrong_issuer);
  CHECK(f.error_of(with_claims({{"aud", "\"other-api\""}})) == jwt_error::wrong_audience);
  CHECK(f.error_of(with_claims({{"aud", R"(["a","b"])"}})) == jwt_error::wrong_audience);
  CHECK(f.verifier.verify(with_claims({{"aud", R"(["a","realmkit-api"])"}})).ok());
}

TEST_CASE("every refusal has its own reason, and each is exercised above") {
  // One token per reason, gathered in one place: adding a jwt_error without a case here fails.
  fixture f;
  const auto body = payload();
  const std::map<jwt_error, std::string> examples{
      {jwt_error::too_large, std::string(5000, 'a')},
      {jwt_error::malformed, "a.b"},
      {jwt_error::bad_base64, "a=.b.c"},
      {jwt_error::header_not_json, b64("x") + "." + b64(body) + ".AAAA"},
      {jwt_error::header_not_object, b64("[]") + "." + b64(body) + ".AAAA"},
      {jwt_error::duplicate_key, b64(R"({"alg":"HS256","alg":"HS256"})") + ".e30.AAAA"},
      {jwt_error::missing_alg, signed_token("{}", body)},
      {jwt_error::alg_none, b64(R"({"alg":"none"})") + "." + b64(body) + "."},
      {jwt_error::alg_not_allowed, signed_token(R"({"alg":"HS512"})", body)},
      {jwt_error::bad_typ, signed_token(R"({"alg":"HS256","typ":"at+jwt"})", body)},
      {jwt_error::unsupported_header, signed_token(R"({"alg":"HS256","crit":["exp"]})", body)},
      {jwt_error::bad_kid, signed_token(R"({"alg":"HS256","kid":null})", body)},
      {jwt_error::unknown_kid, signed_token(R"({"alg":"HS256","kid":"old"})", body)},
      {jwt_error::bad_signature, signed_token(kHeader, body, kOtherSecret)},
      {jwt_error::payload_not_json, signed_token(kHeader, "{")},
      {jwt_error::payload_not_object, signed_token(kHeader, "[]")},
      {jwt_error::bad_claim_type, with_claims({{"exp", "\"never\""}})},
      {jwt_error::missing_exp, with_claims({{"exp", ""}})},
      {jwt_error::missing_iat, with_claims({{"iat", ""}})},
      {jwt_error::missing_sub, with_claims({{"sub", ""}})},
      {jwt_error::missing_jti, with_claims({{"jti", ""}})},
      {jwt_error::missing_iss, with_claims({{"iss", ""}})},
      {jwt_error::missing_aud, with_claims({{"aud", ""}})},
      {jwt_error::missing_role, with_claims({{"role", ""}})},
      {jwt_error::unknown_role, with_claims({{"role", "\"root\""}})},
      {jwt_error::expired, with_claims({{"exp", std::to_string(kNow - 3600)}})},
      {jwt_error::not_yet_valid, with_claims({{"nbf", std::to_string(kNow + 3600)}})},
      {jwt_error::issued_in_future, with_claims({{"iat", std::to_string(kNow + 3600)}})},
      {jwt_error::wrong_issuer, with_claims({{"iss", "\"someone-else\""}})},
      {jwt_error::wrong_audience, with_claims({{"aud", "\"someone-else\""}})},
  };
  std::set<std::string_view> names;
  for (const auto& [expected, token] : examples) {
    CAPTURE(to_string(expected));
    const auto result = f.verifier.verify(token);
    CHECK(result.error == expected);
    CHECK_FALSE(result.detail.empty());
    names.insert(to_string(expected));
  }
  // Every value the verifier can produce (all but `none`, up to wrong_audience; the values after
  // it come from the token service's revocation check).
  CHECK(examples.size() == static_cast<std::size_t>(jwt_error::wrong_audience));
  CHECK(names.size() == examples.size());
  CHECK(names.count("unknown") == 0);
}

TEST_CASE("key rotation: the new key signs, the old one still verifies until removed") {
  testing::fake_clock clock;
  const jwt_key old_key{"2024-12", kOtherSecret};
  const jwt_key new_key{"2025-01", kSecret};
  const auto claims = sample_claims();
  const auto old_token = sign_jwt(claims, old_key);
  const auto new_token = sign_jwt(claims, new_key);

  jwt_verifier during({jwt_keyset({new_key, old_key})}, {"realmkit", "realmkit-api", 30s},
                      clock.fn());
  CHECK(during.keys().signing_key().kid == "2025-01");
  CHECK(during.verify(old_token).ok());
  CHECK(during.verify(new_token).ok());

  jwt_verifier after({jwt_keyset({new_key})}, {"realmkit", "realmkit-api", 30s}, clock.fn());
  CHECK(after.verify(new_token).ok());
  CHECK(after.verify(old_token).error == jwt_error::unknown_kid);

  // A token without kid is checked against the signing key only.
  const auto body = payload();
  CHECK(during.verify(signed_token(R"({"alg":"HS256"})", body, kSecret)).ok());
  CHECK(during.verify(signed_token(R"({"alg":"HS256"})", body, kOtherSecret)).error ==
        jwt_error::bad_signature);
}

TEST_CASE("key sets and verifier options are validated") {
  CHECK_THROWS_AS(jwt_keyset({}), std::invalid_argument);
  CHECK_THROWS_AS(jwt_keyset({{"k1", std::string(31, 'x')}}), std::invalid_argument);
  CHECK_NOTHROW(jwt_keyset({{"k1", std::string(32, 'x')}}));
  CHECK_THROWS_AS(jwt_keyset({{"k1", kSecret}, {"k1", kOtherSecret}}), std::invalid_argument);
  CHECK_THROWS_AS(jwt_keyset({{"", kSecret}}), std::invalid_argument);
  CHECK_THROWS_AS(jwt_keyset({{"has space", kSecret}}), std::invalid_argument);
  CHECK_THROWS_AS(jwt_keyset({{std::string(65, 'k'), kSecret}}), std::invalid_argument);
  CHECK(is_valid_kid("2025-01_a.b"));

  const jwt_keyset keys({{"k1", kSecret}});
  CHECK_THROWS_AS(jwt_verifier(keys, {"", "aud", 30s}, {}), std::invalid_argument);
  CHECK_THROWS_AS(jwt_verifier(keys, {"iss", "", 30s}, {}), std::invalid_argument);
  CHECK_THROWS_AS(jwt_verifier(keys, {"iss", "aud", -1s}, {}), std::invalid_argument);
  CHECK_THROWS_AS(jwt_verifier(keys, {"iss", "aud", 301s}, {}), std::invalid_argument);
}

TEST_CASE("keys as configuration text") {
  const auto generated = generate_jwt_key("2025-01");
  CHECK(generated.secret.size() == kMinSecretBytes);
  CHECK(generate_jwt_key("x").secret != generated.secret);
  const std::string text = format_jwt_key(generated) + ", " + format_jwt_key({"old", kSecret});
  const auto keys = parse_jwt_keyset(text);
  CHECK(keys.signing_key().kid == "2025-01");
  CHECK(keys.signing_key().secret == generated.secret);
  REQUIRE(keys.find("old") != nullptr);
  CHECK(keys.find("old")->secret == kSecret);

  CHECK_THROWS_AS(parse_jwt_keyset(""), std::invalid_argument);
  CHECK_THROWS_AS(parse_jwt_keyset("k1"), std::invalid_argument);
  CHECK_THROWS_AS(parse_jwt_keyset("k1=c2hvcnQ"), std::invalid_argument);  // "short"
  CHECK_THROWS_AS(parse_jwt_keyset("k1=not base64!"), std::invalid_argument);
  try {
    parse_jwt_keyset("k1=" + infra::crypto::base64url_encode("a secret far too short"));
    FAIL("accepted a short secret");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("a secret") == std::string::npos);  // never echoed
  }
}

#include "api/auth/jwt.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/mac.hpp"
#include "infra/crypto/random.hpp"

namespace realmkit::api::auth {
namespace {

namespace crypto = infra::crypto;

// 9999-12-31T23:59:59Z: numeric dates beyond it are nonsense, and the bound keeps the leeway
// arithmetic far from overflow.
constexpr std::int64_t kMaxNumericDate = 253'402'300'799;
constexpr std::string_view kAlgorithm = "HS256";

// Strict: invalid UTF-8, comments, NaN and trailing bytes are refused; the iterative parser keeps
// deep nesting off the call stack.
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

jwt_verify_result fail(jwt_error error, std::string detail) {
  jwt_verify_result result;
  result.error = error;
  result.detail = std::move(detail);
  return result;
}

// RapidJSON keeps every member of an object, duplicates included (FindMember returns the
// first): walk the document and refuse any object that names a member twice, so two parsers can
// never disagree about which "alg" or "sub" a token carries.
bool has_duplicate_keys(const rapidjson::Value& root, std::string& which) {
  std::vector<const rapidjson::Value*> pending{&root};
  std::vector<std::string_view> names;
  while (!pending.empty()) {
    const rapidjson::Value* v = pending.back();
    pending.pop_back();
    if (v->IsObject()) {
      names.clear();
      for (const auto& m : v->GetObject()) {
        names.emplace_back(m.name.GetString(), m.name.GetStringLength());
        pending.push_back(&m.value);
      }
      std::sort(names.begin(), names.end());
      if (auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end()) {
        which = std::string(*dup);
        return true;
      }
    } else if (v->IsArray()) {
      for (const auto& item : v->GetArray()) pending.push_back(&item);
    }
  }
  return false;
}

std::string_view view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

// Splits into exactly three segments; false for any other count.
bool split(std::string_view token, std::string_view (&parts)[3]) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return false;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos) return false;
  if (token.find('.', second + 1) != std::string_view::npos) return false;
  parts[0] = token.substr(0, first);
  parts[1] = token.substr(first + 1, second - first - 1);
  parts[2] = token.substr(second + 1);
  return true;
}

std::string signing_input_mac(std::string_view signing_input, std::string_view secret) {
  return std::string(crypto::as_bytes(crypto::hmac_sha256(secret, signing_input)));
}

// Reads a NumericDate claim: absent → nullopt with ok = true; present but not an integer within
// [0, 9999-12-31] → ok = false.
std::optional<seconds_time> numeric_date(const rapidjson::Value& payload, const char* name,
                                         bool& ok) {
  ok = true;
  const auto it = payload.FindMember(name);
  if (it == payload.MemberEnd()) return std::nullopt;
  if (!it->value.IsInt64() || it->value.GetInt64() < 0 || it->value.GetInt64() > kMaxNumericDate) {
    ok = false;
    return std::nullopt;
  }
  return seconds_time{std::chrono::seconds{it->value.GetInt64()}};
}

// An optional string claim: absent → ok with nullopt; present but not a string → not ok.
std::optional<std::string> string_claim(const rapidjson::Value& payload, const char* name,
                                        bool& ok) {
  ok = true;
  const auto it = payload.FindMember(name);
  if (it == payload.MemberEnd()) return std::nullopt;
  if (!it->value.IsString()) {
    ok = false;
    return std::nullopt;
  }
  return std::string(view(it->value));
}

jwt_verify_result read_claims(const rapidjson::Value& payload) {
  jwt_verify_result result;
  jwt_claims& c = result.claims;
  bool ok = true;

  const auto exp = numeric_date(payload, "exp", ok);
  if (!ok) return fail(jwt_error::bad_claim_type, "exp is not an integer NumericDate");
  if (!exp) return fail(jwt_error::missing_exp, "no exp claim");
  c.expires_at = *exp;
  const auto iat = numeric_date(payload, "iat", ok);
  if (!ok) return fail(jwt_error::bad_claim_type, "iat is not an integer NumericDate");
  if (!iat) return fail(jwt_error::missing_iat, "no iat claim");
  c.issued_at = *iat;
  c.not_before = numeric_date(payload, "nbf", ok);
  if (!ok) return fail(jwt_error::bad_claim_type, "nbf is not an integer NumericDate");

  const auto sub = string_claim(payload, "sub", ok);
  if (!ok) return fail(jwt_error::bad_claim_type, "sub is not a string");
  if (!sub || sub->empty()) return fail(jwt_error::missing_sub, "no sub claim");
  c.subject = *sub;
  const auto jti = string_claim(payload, "jti", ok);
  if (!ok) return fail(jwt_error::bad_claim_type, "jti is not a string");
  if (!jti || jti->empty()) return fail(jwt_error::missing_jti, "no jti claim");
  c.token_id = *jti;
  const auto iss = string_claim(payload, "iss", ok);
  if (!ok) return fail(jwt_error::bad_claim_type, "iss is not a string");
  if (!iss) return fail(jwt_error::missing_iss, "no iss claim");
  c.issuer = *iss;

  const auto aud = payload.FindMember("aud");
  if (aud == payload.MemberEnd()) return fail(jwt_error::missing_aud, "no aud claim");
  if (aud->value.IsString()) {
    c.audience.emplace_back(view(aud->value));
  } else if (aud->value.IsArray() && !aud->value.Empty()) {
    for (const auto& item : aud->value.GetArray()) {
      if (!item.IsString()) return fail(jwt_error::bad_claim_type, "aud holds a non-string");
      c.audience.emplace_back(view(item));
    }
  } else {
    return fail(jwt_error::bad_claim_type, "aud is neither a string nor a non-empty array");
  }

  const auto role = string_claim(payload, "role", ok);
  if (!ok) return fail(jwt_error::bad_claim_type, "role is not a string");
  if (!role) return fail(jwt_error::missing_role, "no role claim");
  if (!domain::from_string(*role, c.role)) {
    return fail(jwt_error::unknown_role, "role \"" + *role + "\" is not a known role");
  }
  if (const auto team = payload.FindMember("team");
      team != payload.MemberEnd() && !team->value.IsNull()) {
    if (!team->value.IsString()) return fail(jwt_error::bad_claim_type, "team is not a string");
    c.team_id = std::string(view(team->value));
  }
  c.session_id = string_claim(payload, "sid", ok);
  if (!ok) return fail(jwt_error::bad_claim_type, "sid is not a string");
  // An empty sid would escape the session's revocation: no issuer of ours writes one.
  if (c.session_id && c.session_id->empty()) return fail(jwt_error::bad_claim_type, "sid is empty");
  return result;
}

}  // namespace

bool is_valid_kid(std::string_view kid) {
  if (kid.empty() || kid.size() > 64) return false;
  return std::all_of(kid.begin(), kid.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
  });
}

jwt_key generate_jwt_key(std::string kid) {
  return {std::move(kid), crypto::random_bytes(kMinSecretBytes)};
}

std::string format_jwt_key(const jwt_key& key) {
  return key.kid + "=" + crypto::base64url_encode(key.secret);
}

jwt_keyset parse_jwt_keyset(std::string_view text) {
  std::vector<jwt_key> keys;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\n')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\n')) item.remove_suffix(1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument("JWT keys: expected kid=<base64url secret>, key " +
                                  std::to_string(keys.size() + 1) + " has no '='");
    }
    auto secret = crypto::base64url_decode(item.substr(eq + 1));
    if (!secret) {
      throw std::invalid_argument("JWT keys: the secret of key \"" +
                                  std::string(item.substr(0, eq)) + "\" is not unpadded base64url");
    }
    keys.push_back({std::string(item.substr(0, eq)), std::move(*secret)});
  }
  return jwt_keyset(std::move(keys));
}

jwt_keyset::jwt_keyset(std::vector<jwt_key> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) throw std::invalid_argument("JWT key set: no key");
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (!is_valid_kid(keys_[i].kid)) {
      throw std::invalid_argument("JWT key set: kid \"" + keys_[i].kid +
                                  "\" is not 1-64 characters of [A-Za-z0-9._-]");
    }
    if (keys_[i].secret.size() < kMinSecretBytes) {
      throw std::invalid_argument("JWT key set: the secret of key \"" + keys_[i].kid + "\" has " +
                                  std::to_string(keys_[i].secret.size()) +
                                  " bytes; HS256 needs at least 32");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (keys_[j].kid == keys_[i].kid) {
        throw std::invalid_argument("JWT key set: kid \"" + keys_[i].kid + "\" appears twice");
      }
    }
  }
}

const jwt_key* jwt_keyset::find(std::string_view kid) const {
  for (const auto& key : keys_) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

std::string_view to_string(jwt_error error) {
  switch (error) {
    case jwt_error::none:
      return "none";
    case jwt_error::too_large:
      return "too_large";
    case jwt_error::malformed:
      return "malformed";
    case jwt_error::bad_base64:
      return "bad_base64";
    case jwt_error::header_not_json:
      return "header_not_json";
    case jwt_error::header_not_object:
      return "header_not_object";
    case jwt_error::duplicate_key:
      return "duplicate_key";
    case jwt_error::missing_alg:
      return "missing_alg";
    case jwt_error::alg_none:
      return "alg_none";
    case jwt_error::alg_not_allowed:
      return "alg_not_allowed";
    case jwt_error::bad_typ:
      return "bad_typ";
    case jwt_error::unsupported_header:
      return "unsupported_header";
    case jwt_error::bad_kid:
      return "bad_kid";
    case jwt_error::unknown_kid:
      return "unknown_kid";
    case jwt_error::bad_signature:
      return "bad_signature";
    case jwt_error::payload_not_json:
      return "payload_not_json";
    case jwt_error::payload_not_object:
      return "payload_not_object";
    case jwt_error::bad_claim_type:
      return "bad_claim_type";
    case jwt_error::missing_exp:
      return "missing_exp";
    case jwt_error::missing_iat:
      return "missing_iat";
    case jwt_error::missing_sub:
      return "missing_sub";
    case jwt_error::missing_jti:
      return "missing_jti";
    case jwt_error::missing_iss:
      return "missing_iss";
    case jwt_error::missing_aud:
      return "missing_aud";
    case jwt_error::missing_role:
      return "missing_role";
    case jwt_error::unknown_role:
      return "unknown_role";
    case jwt_error::expired:
      return "expired";
    case jwt_error::not_yet_valid:
      return "not_yet_valid";
    case jwt_error::issued_in_future:
      return "issued_in_future";
    case jwt_error::wrong_issuer:
      return "wrong_issuer";
    case jwt_error::wrong_audience:
      return "wrong_audience";
    case jwt_error::revoked:
      return "revoked";
    case jwt_error::revocation_unknown:
      return "revocation_unknown";
  }
  return "unknown";
}

namespace detail {

std::string sign_compact(std::string_view header_json, std::string_view payload_json,
                         std::string_view secret) {
  std::string token = crypto::base64url_encode(header_json);
  token += '.';
  token += crypto::base64url_encode(payload_json);
  const std::string mac = signing_input_mac(token, secret);
  token += '.';
  token += crypto::base64url_encode(mac);
  return token;
}

}  // namespace detail

std::string sign_jwt(const jwt_claims& claims, const jwt_key& key) {
  rapidjson::StringBuffer header;
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(header);
    w.StartObject();
    w.Key("alg");
    w.String(kAlgorithm.data(), static_cast<rapidjson::SizeType>(kAlgorithm.size()));
    w.Key("typ");
    w.String("JWT");
    w.Key("kid");
    w.String(key.kid);
    w.EndObject();
  }
  rapidjson::StringBuffer payload;
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(payload);
    w.StartObject();
    w.Key("iss");
    w.String(claims.issuer);
    w.Key("sub");
    w.String(claims.subject);
    w.Key("aud");
    if (claims.audience.size() == 1) {
      w.String(claims.audience.front());
    } else {
      w.StartArray();
      for (const auto& a : claims.audience) w.String(a);
      w.EndArray();
    }
    w.Key("exp");
    w.Int64(claims.expires_at.time_since_epoch().count());
    w.Key("iat");
    w.Int64(claims.issued_at.time_since_epoch().count());
    if (claims.not_before) {
      w.Key("nbf");
      w.Int64(claims.not_before->time_since_epoch().count());
    }
    w.Key("jti");
    w.String(claims.token_id);
    w.Key("role");
    const auto role = domain::to_string(claims.role);
    w.String(role.data(), static_cast<rapidjson::SizeType>(role.size()));
    if (claims.team_id) {
      w.Key("team");
      w.String(*claims.team_id);
    }
    if (claims.session_id) {
      w.Key("sid");
      w.String(*claims.session_id);
    }
    w.EndObject();
  }
  return detail::sign_compact({header.GetString(), header.GetSize()},
                              {payload.GetString(), payload.GetSize()}, key.secret);
}

jwt_verifier::jwt_verifier(jwt_keyset keys, jwt_verify_options options, clock_fn clock)
    : keys_(std::move(keys)), options_(std::move(options)), clock_(std::move(clock)) {
  if (options_.issuer.empty() || options_.audience.empty()) {
    throw std::invalid_argument("JWT verifier: the issuer and audience must be set");
  }
  if (options_.leeway < std::chrono::seconds{0} || options_.leeway > std::chrono::minutes{5}) {
    throw std::invalid_argument("JWT verifier: the leeway must be between 0 and 300 seconds");
  }
  if (!clock_) clock_ = system_clock();
}

jwt_verify_result jwt_verifier::verify(std::string_view token) const {
  if (token.size() > kMaxTokenBytes) {
    return fail(jwt_error::too_large, "token of " + std::to_string(token.size()) + " bytes");
  }
  std::string_view parts[3];
  if (!split(token, parts)) return fail(jwt_error::malformed, "not three segments");

  constexpr const char* kSegment[] = {"header", "payload", "signature"};
  std::optional<std::string> decoded[3];
  for (int i = 0; i < 3; ++i) {
    decoded[i] = crypto::base64url_decode(parts[i]);
    if (!decoded[i]) {
      return fail(jwt_error::bad_base64, std::string(kSegment[i]) + " is not base64url");
    }
  }

  rapidjson::Document header;
  header.Parse<kParseFlags>(decoded[0]->data(), decoded[0]->size());
  if (header.HasParseError()) return fail(jwt_error::header_not_json, "header is not JSON");
  if (!header.IsObject()) return fail(jwt_error::header_not_object, "header is not an object");
  std::string duplicate;
  if (has_duplicate_keys(header, duplicate)) {
    return fail(jwt_error::duplicate_key, "header repeats \"" + duplicate + "\"");
  }
  const auto alg = header.FindMember("alg");
  if (alg == header.MemberEnd()) return fail(jwt_error::missing_alg, "no alg");
  if (!alg->value.IsString()) return fail(jwt_error::alg_not_allowed, "alg is not a string");
  if (iequals(view(alg->value), "none")) return fail(jwt_error::alg_none, "alg none");
  if (view(alg->value) != kAlgorithm) {
    return fail(jwt_error::alg_not_allowed, "alg \"" + std::string(view(alg->value)) + "\"");
  }
  const jwt_key* key = &keys_.signing_key();
  for (const auto& m : header.GetObject()) {
    const std::string_view name = view(m.name);
    if (name == "alg") continue;
    if (name == "typ") {
      if (!m.value.IsString() || view(m.value) != "JWT") {
        return fail(jwt_error::bad_typ, "typ is not \"JWT\"");
      }
    } else if (name == "kid") {
      if (!m.value.IsString()) return fail(jwt_error::bad_kid, "kid is not a string");
      key = keys_.find(view(m.value));
      if (key == nullptr) {
        return fail(jwt_error::unknown_kid, "kid \"" + std::string(view(m.value)) + "\"");
      }
    } else {
      return fail(jwt_error::unsupported_header, "header parameter \"" + std::string(name) + "\"");
    }
  }

  const std::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!crypto::constant_time_equal(signing_input_mac(signing_input, key->secret), *decoded[2])) {
    return fail(jwt_error::bad_signature, "signature does not match key \"" + key->kid + "\"");
  }

  // Only now, with the signature good, is the payload worth parsing.
  rapidjson::Document payload;
  payload.Parse<kParseFlags>(decoded[1]->data(), decoded[1]->size());
  if (payload.HasParseError()) return fail(jwt_error::payload_not_json, "payload is not JSON");
  if (!payload.IsObject()) return fail(jwt_error::payload_not_object, "payload is not an object");
  if (has_duplicate_keys(payload, duplicate)) {
    return fail(jwt_error::duplicate_key, "payload repeats \"" + duplicate + "\"");
  }
  auto result = read_claims(payload);
  if (!result.ok()) return result;
  const jwt_claims& c = result.claims;

  const timestamp now = clock_();
  const auto leeway = options_.leeway;
  if (now >= c.expires_at + leeway) return fail(jwt_error::expired, "exp has passed");
  if (c.not_before && now + leeway < *c.not_before) {
    return fail(jwt_error::not_yet_valid, "nbf is in the future");
  }
  if (c.issued_at > now + leeway) return fail(jwt_error::issued_in_future, "iat is in the future");
  if (c.issuer != options_.issuer) {
    return fail(jwt_error::wrong_issuer, "iss \"" + c.issuer + "\"");
  }
  if (std::find(c.audience.begin(), c.audience.end(), options_.audience) == c.audience.end()) {
    return fail(jwt_error::wrong_audience, "aud does not contain \"" + options_.audience + "\"");
  }
  return result;
}

}  // namespace realmkit::api::auth

// The rules of outgoing webhooks without a database or a socket: which URLs and addresses are
// targets (SSRF), what the signature is and how a receiver checks it, when a failed attempt is
// tried again and after how long, and which events a pattern selects.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "infra/crypto/encoding.hpp"
#include "infra/event_metadata.hpp"
#include "infra/webhooks/webhook_events.hpp"
#include "infra/webhooks/webhook_retry.hpp"
#include "infra/webhooks/webhook_signature.hpp"
#include "infra/webhooks/webhook_target.hpp"

using namespace realmkit;
using namespace realmkit::infra::webhooks;
using namespace std::chrono_literals;

namespace {

std::optional<std::string> reason_for(const std::string& address) {
  const auto a = parse_ip(address);
  REQUIRE_MESSAGE(a.has_value(), address);
  return non_public_reason(*a);
}

target_url url_of(const std::string& text) {
  std::string why;
  const auto url = parse_target_url(text, why);
  INFO(text, ": ", why);
  REQUIRE(url.has_value());
  return *url;
}

// A resolver that knows a few names, as DNS would answer them.
resolver fake_dns(std::map<std::string, std::vector<std::string>> names) {
  return [names = std::move(names)](const std::string& host) {
    const auto it = names.find(host);
    if (it == names.end()) throw target_unresolvable("the host " + host + " does not resolve");
    std::vector<ip_address> out;
    for (const auto& a : it->second) out.push_back(*parse_ip(a));
    return out;
  };
}

}  // namespace

TEST_CASE("webhook URLs: http and https only, without credentials or fragments") {
  const auto plain = url_of("http://hooks.example.com/in?x=1");
  CHECK_FALSE(plain.tls);
  CHECK(plain.host == "hooks.example.com");
  CHECK(plain.port == 80);
  CHECK(plain.target == "/in?x=1");
  CHECK_FALSE(plain.host_is_literal);

  const auto secure = url_of("HTTPS://Hooks.Example.COM.:8443");
  CHECK(secure.tls);
  CHECK(secure.host == "hooks.example.com");
  CHECK(secure.port == 8443);
  CHECK(secure.target == "/");

  const auto v6 = url_of("http://[2606:4700::1111]:8080/h");
  CHECK(v6.host == "2606:4700::1111");
  CHECK(v6.host_is_literal);
  CHECK(v6.port == 8080);
  CHECK(url_of("http://example.com?q").target == "/?q");

  for (const char* bad :
       {"ftp://example.com/", "file:///etc/passwd", "gopher://example.com", "example.com/hook",
        "http://user:pass@example.com/", "http://user@example.com/", "http://example.com/#frag",
        "http://", "http:///path", "http://exa mple.com/", "http://example.com:0/",
        "http://example.com:65536/", "http://example.com:/", "http://[::1/", "http://[zz::1]/",
        "http://-bad-.example/", "http://ex\xc3\xa4mple.com/", "javascript:alert(1)"}) {
    std::string why;
    CHECK_MESSAGE(!parse_target_url(bad, why).has_value(), bad);
    CHECK_MESSAGE(!why.empty(), bad);
  }
  std::string why;
  CHECK_FALSE(parse_target_url("http://example.com/" + std::string(2100, 'a'), why));
}

TEST_CASE("webhook targets: private, loopback, link-local and reserved addresses are refused") {
  for (const char* address : {"127.0.0.1",
                              "127.255.0.9",
                              "10.0.0.1",
                              "172.16.0.1",
                              "172.31.255.255",
                              "192.168.1.1",
                              "169.254.169.254",
                              "100.64.0.1",
                              "100.127.255.255",
                              "0.0.0.0",
                              "0.1.2.3",
                              "224.0.0.1",
                              "239.255.255.250",
                              "255.255.255.255",
                              "240.0.0.1",
                              "192.0.0.8",
                              "198.18.0.1",
                              "192.0.2.10",
                              "::",
                              "::1",
                              "fc00::1",
                              "fd12:3456::1",
                              "fe80::1",
                              "fec0::1",
                              "ff02::1",
                              "::ffff:127.0.0.1",
                              "::ffff:10.1.2.3",
                              "::ffff:169.254.169.254",
                              "::127.0.0.1",
                              "64:ff9b::a00:1",
                              "64:ff9b:1::1",
                              "2002:c0a8:101::1",
                              "2001::1",
                              "2001:db8::1",
                              "100::1"}) {
    CHECK_MESSAGE(reason_for(address).has_value(), address);
  }
  for (const char* address : {"93.184.215.14", "1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1",
                              "169.255.0.1", "2606:4700::1111", "2a00:1450:4001::200e",
                              "::ffff:93.184.215.14", "64:ff9b::808:808", "2002:5db8:d70e::1"}) {
    CHECK_MESSAGE(!reason_for(address).has_value(), address);
  }
  CHECK(*reason_for("169.254.169.254") ==
        "a link-local address (cloud metadata services live there)");
}

TEST_CASE(
    "webhook targets: every resolved address is checked, unless the operator allows private") {
  const target_policy strict{
      .allow_private = false,
      .resolve = fake_dns({{"hooks.example.com", {"93.184.215.14"}},
                           {"rebind.example.com", {"93.184.215.14", "10.0.0.5"}},
                           {"inside.example.com", {"192.168.0.7"}}})};
  CHECK(checked_addresses(url_of("https://hooks.example.com/x"), strict).size() == 1);
  // One private address among public ones refuses the name.
  CHECK_THROWS_WITH_AS(checked_addresses(url_of("http://rebind.example.com/"), strict),
                       doctest::Contains("resolves to 10.0.0.5"), target_refused);
  CHECK_THROWS_AS(checked_addresses(url_of("http://inside.example.com/"), strict), target_refused);
  CHECK_THROWS_AS(checked_addresses(url_of("http://nowhere.example.com/"), strict),
                  target_unresolvable);
  // Literals are judged without asking DNS.
  CHECK_THROWS_WITH_AS(checked_addresses(url_of("http://127.0.0.1:9/"), strict),
                       doctest::Contains("loopback"), target_refused);
  CHECK_THROWS_AS(checked_addresses(url_of("http://[::ffff:7f00:1]/"), strict), target_refused);

  // localhost and its numeric disguises, through the system's own resolver.
  const target_policy system{.allow_private = false};
  for (const char* url : {"http://localhost:8080/", "http://LOCALHOST./", "http://127.1/",
                          "http://2130706433/", "http://0x7f.0.0.1/"}) {
    INFO(url);
    std::string why;
    const auto parsed = parse_target_url(url, why);
    REQUIRE(parsed.has_value());
    CHECK_THROWS_AS(checked_addresses(*parsed, system), target_refused);
  }

  const target_policy open{.allow_private = true, .resolve = strict.resolve};
  CHECK(checked_addresses(url_of("http://inside.example.com/"), open).front().text() ==
        "192.168.0.7");
  CHECK(checked_addresses(url_of("http://127.0.0.1:9/"), open).front().text() == "127.0.0.1");
}

TEST_CASE("webhook signatures: t and v1 over \"<t>.<body>\", checked in constant time") {
  const std::string secret = "whsec_test-secret";
  const std::string body = R"({"event_id":"e1"})";
  // The value a receiver computes with any HMAC library: HMAC-SHA256(key = the secret's text,
  // message = "1700000000." + body), in lowercase hex (here from Python's hmac module).
  CHECK(signature_of(secret, 1700000000, body) ==
        "27f26900dffbe351ecffd5f2cf467a8eb03bf057d058c958ae174333f8b85820");
  const std::string secrets[] = {secret};
  const auto header = signature_header(secrets, 1700000000, body);
  CHECK(header == "t=1700000000,v1=" + signature_of(secret, 1700000000, body));

  CHECK(verify_signature(header, secret, body, 1700000000) == signature_check::valid);
  CHECK(verify_signature(header, secret, body, 1700000000 + 299) == signature_check::valid);
  CHECK(verify_signature(header, secret, body, 1700000000 + 301) == signature_check::stale);
  CHECK(verify_signature(header, secret, body + " ", 1700000000) == signature_check::mismatch);
  CHECK(verify_signature(header, "whsec_other", body, 1700000000) == signature_check::mismatch);
  CHECK(verify_signature("v1=abc", secret, body, 1700000000) == signature_check::malformed);
  CHECK(verify_signature("t=1700000000", secret, body, 1700000000) == signature_check::malformed);
  CHECK(verify_signature("t=17x,v1=ab", secret, body, 1700000000) == signature_check::malformed);
  // The timestamp is signed with the body: moving it breaks the signature.
  const auto moved = "t=1700000100,v1=" + signature_of(secret, 1700000000, body);
  CHECK(verify_signature(moved, secret, body, 1700000100) == signature_check::mismatch);

  // During a rotation's overlap both secrets sign; a receiver with either accepts.
  const std::string both[] = {"whsec_new", secret};
  const auto rotated = signature_header(both, 1700000000, body);
  CHECK(verify_signature(rotated, "whsec_new", body, 1700000000) == signature_check::valid);
  CHECK(verify_signature(rotated, secret, body, 1700000000) == signature_check::valid);

  const auto fresh = new_secret();
  CHECK(fresh.starts_with("whsec_"));
  CHECK(fresh.size() == 6 + 43);
  CHECK(infra::crypto::is_base64url(fresh.substr(6)));
  CHECK(new_secret() != fresh);
}

TEST_CASE("webhook retries: network errors, 5xx, 408 and 429 again, other answers never") {
  CHECK(judge(200) == answer_verdict::delivered);
  CHECK(judge(204) == answer_verdict::delivered);
  CHECK(judge(std::nullopt) == answer_verdict::retry);
  for (int s : {500, 502, 503, 504, 408, 429}) CHECK_MESSAGE(judge(s) == answer_verdict::retry, s);
  for (int s : {301, 302, 307, 400, 401, 403, 404, 410, 413, 422}) {
    CHECK_MESSAGE(judge(s) == answer_verdict::fail, s);
  }

  // The defaults: 8 attempts spread over about two hours.
  const retry_options defaults;
  std::chrono::milliseconds total{};
  for (int attempt = 1; attempt < defaults.max_attempts; ++attempt) {
    total += retry_delay(defaults, attempt, 0.5);
  }
  CHECK(total == 127min);
  // Jitter stays within its band; every wait grows even at the band's ends.
  CHECK(retry_delay(defaults, 1, 0.0) == 48s);
  CHECK(retry_delay(defaults, 1, 0.999) < 72s);
  CHECK(retry_delay(defaults, 2, 0.0) > retry_delay(defaults, 1, 0.999));
  // The cap holds, and a Retry-After is honoured up to its own cap.
  const retry_options capped{.base = 1s, .cap = 10s, .max_attempts = 20, .jitter = 0};
  CHECK(retry_delay(capped, 15, 0.5) == 10s);
  CHECK(retry_delay(capped, 1, 0.5, 30s) == 30s);
  CHECK(retry_delay(capped, 1, 0.5, std::chrono::seconds(86400)) == 1h);

  const infra::timestamp now{std::chrono::seconds(784111777)};  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parse_retry_after("120", now) == 120s);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now) == 120s);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now) == 0s);
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("12x", now));
  CHECK_FALSE(parse_retry_after("", now));
}

TEST_CASE("webhook patterns: kinds, an aggregate's kinds, or every public kind") {
  CHECK_FALSE(check_pattern("*"));
  CHECK_FALSE(check_pattern("deal.*"));
  CHECK_FALSE(check_pattern("deal.stage_moved"));
  CHECK_FALSE(check_pattern("contact.created"));
  CHECK(check_pattern("deal.stage_moved.v1"));  // versions are not part of a pattern
  CHECK(check_pattern("deal"));
  CHECK(check_pattern("deal.nothing_like_this"));
  CHECK(check_pattern("spaceship.*"));
  CHECK(check_pattern("user_email.*"));  // internal bookkeeping is never offered
  CHECK(check_pattern("Deal.*"));
  CHECK(check_pattern("*.created"));
  CHECK(check_pattern(""));

  const std::vector<std::string> deals{"deal.*"};
  CHECK(matches(deals, "deal.stage_moved.v1"));
  CHECK(matches(deals, "deal.created.v1"));
  CHECK_FALSE(matches(deals, "dealer.created.v1"));
  CHECK_FALSE(matches(deals, "contact.created.v1"));
  const std::vector<std::string> one{"contact.created", "deal.won"};
  CHECK(matches(one, "contact.created.v1"));
  CHECK(matches(one, "deal.won.v1"));
  CHECK_FALSE(matches(one, "deal.lost.v1"));
  const std::vector<std::string> all{"*"};
  CHECK(matches(all, "team.created.v1"));
  CHECK_FALSE(matches(all, "user_email.reserved.v1"));

  const auto kinds = known_event_kinds();
  CHECK(std::is_sorted(kinds.begin(), kinds.end()));
  CHECK(std::find(kinds.begin(), kinds.end(), "deal.stage_moved") != kinds.end());
  CHECK(std::find(kinds.begin(), kinds.end(), "user.password_changed") != kinds.end());
}

TEST_CASE(
    "webhook bodies: the event envelope, without the client's address or key, hashes redacted") {
  infra::recorded_event e;
  e.event_id = "e1";
  e.stream_id = "user-u1";
  e.stream_version = 3;
  e.global_position = 41;
  e.type = "user.password_changed.v1";
  e.recorded_at = infra::timestamp(std::chrono::seconds(1700000000));
  e.data = R"({"user_id":"u1","password_hash":"$argon2id$v=19$secret"})";
  e.metadata = infra::encode_metadata({.actor = "admin",
                                       .correlation_id = "req-1",
                                       .idempotency_key = "key-1",
                                       .ip = "203.0.113.7"});
  const auto body = webhook_payload(e);
  CHECK(body == R"({"event_id":"e1","stream_id":"user-u1","stream_version":3,"global_position":41,)"
                R"("type":"user.password_changed.v1","schema_version":1,)"
                R"("recorded_at":"2023-11-14T22:13:20.000000Z",)"
                R"("data":{"user_id":"u1","password_hash":"[redacted]"},)"
                R"("metadata":{"actor":"admin","correlation_id":"req-1","causation_id":null,)"
                R"("idempotency_key":null,"ip":null}})");
  e.type = "deal.won.v1";
  e.data = R"({"deal_id":"d1"})";
  CHECK(webhook_payload(e).find(R"("data":{"deal_id":"d1"})") != std::string::npos);
}

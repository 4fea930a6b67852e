#include "infra/audit/chain_verify.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <algorithm>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "infra/json/json_time.hpp"
#include "infra/log_pages.hpp"

namespace realmkit::infra::audit {
namespace {

constexpr std::string_view kCheckpointFormat = "realmkit.checkpoint.v1";

void ensure_sodium() {
  if (::sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

template <std::size_t N>
std::array<std::uint8_t, N> hex_bytes(std::string_view hex, const char* field) {
  std::array<std::uint8_t, N> out{};
  std::size_t written = 0;
  if (hex.size() != 2 * N ||
      ::sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written,
                       nullptr) != 0 ||
      written != N) {
    throw std::invalid_argument(std::string(field) + ": expected " + std::to_string(2 * N) +
                                " hexadecimal digits");
  }
  return out;
}

std::string_view string_member(const rapidjson::Document& doc, const char* field) {
  const auto it = doc.FindMember(field);
  if (it == doc.MemberEnd() || !it->value.IsString()) {
    throw std::invalid_argument(std::string(field) + ": a string is required");
  }
  return {it->value.GetString(), it->value.GetStringLength()};
}

rapidjson::Document parse_object(std::string_view json, const char* what) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw std::invalid_argument(std::string(what) + " is not a JSON object");
  }
  return doc;
}

// The bytes signed: the format, then position, hash and time, one per line.
std::string signed_message(const checkpoint& c) {
  std::string m(kCheckpointFormat);
  m += '\n';
  m += std::to_string(c.position);
  m += '\n';
  m += to_hex(c.hash);
  m += '\n';
  m += c.signed_at;
  return m;
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  ::sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

signing_key generate_signing_key() {
  ensure_sodium();
  signing_key key;
  ::crypto_sign_keypair(key.public_key.data(), key.secret.data());
  return key;
}

std::string encode_signing_key(const signing_key& key) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("algorithm");
  w.String("ed25519");
  w.Key("public_key");
  w.String(to_hex(key.public_key).c_str());
  w.Key("secret_key");
  w.String(to_hex(key.secret).c_str());
  w.EndObject();
  return buffer.GetString();
}

signing_key decode_signing_key(std::string_view json) {
  ensure_sodium();
  const auto doc = parse_object(json, "the signing key");
  if (string_member(doc, "algorithm") != "ed25519") {
    throw std::invalid_argument("algorithm: only ed25519 is supported");
  }
  signing_key key;
  key.secret = hex_bytes<64>(string_member(doc, "secret_key"), "secret_key");
  key.public_key = hex_bytes<32>(string_member(doc, "public_key"), "public_key");
  std::array<std::uint8_t, 32> derived{};
  ::crypto_sign_ed25519_sk_to_pk(derived.data(), key.secret.data());
  if (derived != key.public_key) {
    throw std::invalid_argument("public_key: does not belong to secret_key");
  }
  return key;
}

checkpoint sign_checkpoint(std::int64_t position, const chain_hash& hash, timestamp at,
                           const signing_key& key) {
  ensure_sodium();
  checkpoint c;
  c.position = position;
  c.hash = hash;
  c.signed_at = format_timestamp(at).value_or("");
  c.public_key = key.public_key;
  const auto message = signed_message(c);
  ::crypto_sign_detached(c.signature.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         key.secret.data());
  return c;
}

std::string encode_checkpoint(const checkpoint& c) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("format");
  w.String(kCheckpointFormat.data(), static_cast<rapidjson::SizeType>(kCheckpointFormat.size()));
  w.Key("position");
  w.Int64(c.position);
  w.Key("hash");
  w.String(to_hex(c.hash).c_str());
  w.Key("signed_at");
  w.String(c.signed_at.c_str());
  w.Key("public_key");
  w.String(to_hex(c.public_key).c_str());
  w.Key("signature");
  w.String(to_hex(c.signature).c_str());
  w.EndObject();
  return buffer.GetString();
}

checkpoint decode_checkpoint(std::string_view json) {
  const auto doc = parse_object(json, "the checkpoint");
  if (string_member(doc, "format") != kCheckpointFormat) {
    throw std::invalid_argument("format: expected " + std::string(kCheckpointFormat));
  }
  checkpoint c;
  const auto position = doc.FindMember("position");
  if (position == doc.MemberEnd() || !position->value.IsInt64() || position->value.GetInt64() < 0) {
    throw std::invalid_argument("position: a non-negative integer is required");
  }
  c.position = position->value.GetInt64();
  c.hash = hex_bytes<32>(string_member(doc, "hash"), "hash");
  c.signed_at = std::string(string_member(doc, "signed_at"));
  if (!parse_timestamp(c.signed_at)) {
    throw std::invalid_argument("signed_at: an RFC 3339 time is required");
  }
  c.public_key = hex_bytes<32>(string_member(doc, "public_key"), "public_key");
  c.signature = hex_bytes<64>(string_member(doc, "signature"), "signature");
  return c;
}

bool signature_valid(const checkpoint& c) {
  ensure_sodium();
  const auto message = signed_message(c);
  return ::crypto_sign_verify_detached(c.signature.data(),
                                       reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), c.public_key.data()) == 0;
}

verify_report verify_chain(event_store& store, const verify_options& options) {
  verify_report report;
  report.head = options.up_to > 0 ? options.up_to : store.head_position();
  if (options.expect && options.expect->position > report.head)
    report.head = options.expect->position;
  chain_verifier verifier;
  const auto compare_checkpoint = [&] {
    if (!options.expect || verifier.position() != options.expect->position) return;
    if (verifier.hash() == options.expect->hash) {
      report.checkpoint_matched = true;
    } else {
      report.first_break =
          chain_break{verifier.position(),
                      "differs from the checkpoint signed at " + options.expect->signed_at +
                          ": the log at or before this position was rewritten (checkpoint " +
                          to_hex(options.expect->hash) + ", log " + to_hex(verifier.hash()) + ")"};
    }
  };
  compare_checkpoint();  // a checkpoint of the empty log
  // Where the store serves several reads at once (PostgreSQL), pages are read ahead on other
  // threads while this one hashes (log_pages). Otherwise (SQLite) this thread reads them: hashing
  // a page costs less than handing it over, measured. After a page the store refused, the reading
  // goes on one event at a time on this thread.
  std::optional<log_pages> pages;
  pages.emplace(store, verifier.position(), report.head, std::max<std::size_t>(options.page, 1),
                store.concurrent_reads() > 1 ? 2 : 0);
  while (!report.first_break && verifier.position() < report.head) {
    std::vector<recorded_event> events;
    try {
      events = pages ? pages->next() : store.read_all(verifier.position(), 1);
    } catch (const corrupt_event& e) {
      // The store refuses a page holding a row it cannot read (or, on PostgreSQL, a hole in the
      // positions). One event at a time pins down where: the refusal of the next single event is
      // the break.
      if (pages) {
        pages.reset();
        continue;
      }
      report.first_break = chain_break{verifier.position() + 1, e.what()};
      break;
    }
    if (events.empty()) {
      report.first_break =
          chain_break{verifier.position() + 1, "missing: the log ends at position " +
                                                   std::to_string(verifier.position()) +
                                                   " but reached " + std::to_string(report.head)};
      break;
    }
    for (const auto& e : events) {
      if (e.global_position > report.head && e.global_position == verifier.position() + 1) break;
      if (auto broken = verifier.feed(e)) {
        report.first_break = std::move(broken);
        break;
      }
      ++report.checked;
      compare_checkpoint();
      if (report.first_break || verifier.position() >= report.head) break;
    }
    if (options.progress) options.progress(verifier.position());
  }
  report.verified_through = verifier.position();
  report.last_hash = verifier.hash();
  return report;
}

}  // namespace realmkit::infra::audit

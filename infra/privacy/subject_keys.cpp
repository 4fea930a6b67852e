#include "infra/privacy/subject_keys.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/random.hpp"

namespace realmkit::infra::privacy {
namespace {

constexpr std::string_view kSealedPrefix = "sealed:v1:";
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

constexpr const char* kSelectKey =
    "SELECT key, erased_at, erased_by, erase_reason FROM subject_keys WHERE subject_id = $1";

std::int64_t micros(timestamp t) {
  return t.time_since_epoch().count();
}

subject_key decode_key(const std::string& text, std::string_view subject) {
  const auto bytes = crypto::base64url_decode(text);
  subject_key key{};
  if (!bytes || bytes->size() != key.size()) {
    throw store_error("the key of data subject " + std::string(subject) + " is malformed");
  }
  std::memcpy(key.data(), bytes->data(), key.size());
  return key;
}

std::string associated_data(std::string_view subject, std::string_view field) {
  std::string ad(subject);
  ad += '\0';
  ad += field;
  return ad;
}

}  // namespace

subject_key subject_key_store::key_for(std::string_view subject, timestamp now) {
  auto s = db_.acquire();
  const std::vector<sql::value> by_subject{std::string(subject)};
  auto rows = s->query(kSelectKey, by_subject);
  if (rows.empty()) {
    const auto fresh = crypto::base64url_encode(crypto::random_bytes(sizeof(subject_key)));
    sql::transaction tx(*s);
    if (s->dialect() == sql::dialect::postgres) {
      // Whatever the session's default: an event sealed with this key must never outlive it.
      s->execute("SET LOCAL synchronous_commit = on");
    }
    const std::vector<sql::value> insert{std::string(subject), fresh, micros(now)};
    // A concurrent first use may have won: then its key is everyone's.
    s->execute(
        "INSERT INTO subject_keys (subject_id, key, created_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (subject_id) DO NOTHING",
        insert);
    tx.commit();
    rows = s->query(kSelectKey, by_subject);
    if (rows.empty())
      throw store_error("the key of data subject " + std::string(subject) + " vanished");
  }
  if (rows[0].is_null(0)) throw subject_erased(std::string(subject));
  return decode_key(rows[0].text(0), subject);
}

std::optional<subject_key> subject_key_store::find(std::string_view subject) {
  auto s = db_.acquire();
  const std::vector<sql::value> by_subject{std::string(subject)};
  const auto rows = s->query(kSelectKey, by_subject);
  if (rows.empty() || rows[0].is_null(0)) return std::nullopt;
  return decode_key(rows[0].text(0), subject);
}

std::unordered_map<std::string, std::optional<subject_key>> subject_key_store::lookup(
    std::span<const std::string> subjects) {
  constexpr std::size_t kChunk = 200;
  std::unordered_map<std::string, std::optional<subject_key>> out;
  if (subjects.empty()) return out;
  auto s = db_.acquire();
  for (std::size_t from = 0; from < subjects.size(); from += kChunk) {
    const auto n = std::min(kChunk, subjects.size() - from);
    std::string sql = "SELECT subject_id, key FROM subject_keys WHERE subject_id IN (";
    std::vector<sql::value> params;
    params.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (i) sql += ", ";
      sql += "$" + std::to_string(i + 1);
      params.emplace_back(subjects[from + i]);
    }
    sql += ")";
    for (const auto& row : s->query(sql, params)) {
      auto subject = row.text(0);
      std::optional<subject_key> key;
      if (!row.is_null(1)) key = decode_key(row.text(1), subject);
      out.emplace(std::move(subject), key);
    }
  }
  return out;
}

std::optional<erasure> subject_key_store::erased(std::string_view subject) {
  auto s = db_.acquire();
  const std::vector<sql::value> by_subject{std::string(subject)};
  const auto rows = s->query(kSelectKey, by_subject);
  if (rows.empty() || rows[0].is_null(1)) return std::nullopt;
  return erasure{timestamp(std::chrono::microseconds(rows[0].integer(1))), rows[0].text(2),
                 rows[0].text(3)};
}

bool subject_key_store::erase(std::string_view subject, const erasure& what) {
  auto s = db_.acquire();
  const bool sqlite = s->dialect() == sql::dialect::sqlite;
  // The old row's bytes are overwritten with zeros instead of left in the page's free space.
  if (sqlite) s->exec_script("PRAGMA secure_delete = ON");
  {
    sql::transaction tx(*s);
    const std::vector<sql::value> by_subject{std::string(subject)};
    const auto rows = s->query(kSelectKey, by_subject);
    if (!rows.empty() && !rows[0].is_null(1)) return false;  // erased before
    const std::vector<sql::value> values{std::string(subject), micros(what.at), what.by,
                                         what.reason};
    if (rows.empty()) {
      s->execute(
          "INSERT INTO subject_keys (subject_id, key, created_at, erased_at, erased_by, "
          "erase_reason) VALUES ($1, NULL, $2, $2, $3, $4)",
          values);
    } else {
      s->execute(
          "UPDATE subject_keys SET key = NULL, erased_at = $2, erased_by = $3, erase_reason = $4 "
          "WHERE subject_id = $1",
          values);
    }
    tx.commit();
  }
  // Older copies of the key: SQLite's WAL frames until it restarts, PostgreSQL's dead row version
  // until vacuumed. Best effort: a reader holding the WAL, or a vacuum refused, leaves them to
  // the next checkpoint or autovacuum, and the erasure stands either way.
  try {
    if (sqlite) {
      s->exec_script("PRAGMA wal_checkpoint(TRUNCATE)");
    } else {
      s->exec_script("VACUUM subject_keys");
    }
  } catch (const std::exception& e) {
    spdlog::warn("after erasing data subject {}: {}", subject, e.what());
  }
  return true;
}

std::string seal(const subject_key& key, std::string_view subject, std::string_view field,
                 std::string_view plaintext) {
  if (::sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  std::string box(kNonce + plaintext.size() + kTag, '\0');
  auto* out = reinterpret_cast<unsigned char*>(box.data());
  ::randombytes_buf(out, kNonce);
  const auto ad = associated_data(subject, field);
  unsigned long long written = 0;
  ::crypto_aead_xchacha20poly1305_ietf_encrypt(
      out + kNonce, &written, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, out,
      key.data());
  box.resize(kNonce + written);
  return std::string(kSealedPrefix) + crypto::base64url_encode(box);
}

std::optional<std::string> open_sealed(const subject_key& key, std::string_view subject,
                                       std::string_view field, std::string_view sealed) {
  if (!is_sealed(sealed)) return std::nullopt;
  const auto box = crypto::base64url_decode(sealed.substr(kSealedPrefix.size()));
  if (!box || box->size() < kNonce + kTag) return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(box->data());
  std::string plain(box->size() - kNonce - kTag, '\0');
  const auto ad = associated_data(subject, field);
  unsigned long long written = 0;
  if (::crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &written, nullptr, in + kNonce,
          box->size() - kNonce, reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), in,
          key.data()) != 0) {
    return std::nullopt;
  }
  plain.resize(written);
  return plain;
}

bool is_sealed(std::string_view text) {
  return text.starts_with(kSealedPrefix);
}

}  // namespace realmkit::infra::privacy

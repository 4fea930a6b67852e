// Crypto-shredding for the right to erasure: each data subject (a contact or a lead) has a key of
// its own, kept apart from the events in subject_keys; personal fields (names, emails, phones,
// notes) are sealed with it (XChaCha20-Poly1305) before they enter an event. Erasing the subject
// destroys the key: the sealed fields can then never be opened again, yet the events stay exactly
// as stored, so the log's hash chain still verifies and replays still work, showing the fields as
// erased.
//
// What destroying a key cannot reach, and the operator must: database backups and archived WAL
// taken before the erasure still hold the key until they age out; SQLite runs the erasure with
// secure_delete and truncates its WAL afterwards (when no reader holds it), PostgreSQL vacuums
// the table, but a key's bytes may survive in free space until overwritten.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::infra::privacy {

using subject_key = std::array<std::uint8_t, 32>;

// The subject was erased: nothing may be sealed for it any more.
class subject_erased : public store_error {
 public:
  explicit subject_erased(const std::string& subject)
      : store_error("the data subject " + subject + " was erased"), subject_(subject) {}
  const std::string& subject() const { return subject_; }

 private:
  std::string subject_;
};

struct erasure {
  timestamp at{};
  std::string by;      // the actor's user id
  std::string reason;  // as given with the request
};

class subject_key_store {
 public:
  // `db` is the database of the event store (its SQLite file or PostgreSQL schema, migrated).
  explicit subject_key_store(sql::database& db) : db_(db) {}

  // The subject's key, created on first use; concurrent first uses get the same key. The new key
  // is committed before it is returned, so an event sealed with it never outlives it (on SQLite
  // the event's own WAL fsync covers the earlier commit; on PostgreSQL the commit waits for its
  // flush). Throws subject_erased.
  subject_key key_for(std::string_view subject, timestamp now);
  // The key, or nullopt when the subject never had one or was erased.
  std::optional<subject_key> find(std::string_view subject);
  // Many subjects' keys in one round trip per few hundred: each subject on record maps to its
  // key, or to nullopt once erased; subjects never seen are absent.
  std::unordered_map<std::string, std::optional<subject_key>> lookup(
      std::span<const std::string> subjects);
  // When and why the subject was erased; nullopt while it was not.
  std::optional<erasure> erased(std::string_view subject);
  // Destroys the key (and records the erasure even for a subject that never had one, so none is
  // created later). False when the subject was erased before: the first erasure stays on record.
  bool erase(std::string_view subject, const erasure& what);

 private:
  sql::database& db_;
};

// "sealed:v1:" + base64url(nonce ‖ ciphertext ‖ tag). The subject and the field name are bound
// in as associated data, so a sealed value cannot be moved to another field or person unnoticed.
std::string seal(const subject_key& key, std::string_view subject, std::string_view field,
                 std::string_view plaintext);
// The plaintext, or nullopt when the text is not a sealed value of this key, subject and field.
std::optional<std::string> open_sealed(const subject_key& key, std::string_view subject,
                                       std::string_view field, std::string_view sealed);
bool is_sealed(std::string_view text);

}  // namespace realmkit::infra::privacy

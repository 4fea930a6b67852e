// The event store as everything but the log's own keepers sees it: personal fields of contacts
// and leads (names, job title, e-mail addresses, phone numbers, consent sources) are sealed with
// the person's key (subject_keys.hpp) on their way in, and opened on their way out. Once a person
// is erased, their fields read as kErasedText; the stored bytes, and so the hash chain, never
// change.
//
// What reads the log as stored: the hash chain's verification, and the relay, which produces the
// sealed envelopes to Kafka (an erasure then reaches every copy of the topic too). Projectors that
// consume the topic open the events through this decorator over the feed.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "infra/event_store.hpp"
#include "infra/privacy/subject_keys.hpp"

namespace realmkit::infra::privacy {

// What an erased person's sealed field reads as.
inline constexpr std::string_view kErasedText = "[erased]";

// The data subject of a stream: the stream id of a contact ("contact-…") or a lead ("lead-…");
// empty for every other stream.
std::string_view subject_of(std::string_view stream_id);
// Whether events of this stored type carry personal fields.
bool has_personal_fields(std::string_view type);

// The event's data (a JSON object's text) with each personal field's text sealed for the subject.
// Empty texts stay empty. Data of a type without personal fields comes back unchanged.
std::string seal_personal_fields(std::string_view type, std::string_view data,
                                 const subject_key& key, std::string_view subject);
// The data with each sealed field opened: with no key (the subject was erased), each reads as
// kErasedText. A sealed value the key does not open (altered, or moved from another field or
// person) throws corrupt_event. Texts that were never sealed (events written before sealing
// began) stay as they are.
std::string open_personal_fields(std::string_view type, std::string_view data,
                                 const subject_key* key, std::string_view subject);

// The data as a read of the log shows it once the subject is erased: each personal field that
// holds text reads kErasedText. For read models that kept a copy of what they read before the
// erasure. `type` may be stored ("contact.created.v1") or without its version ("contact.created").
std::string erase_personal_fields(std::string_view type, std::string_view data);

class private_event_store final : public event_store {
 public:
  using clock = std::function<timestamp()>;
  // Both must outlive this decorator. `now` stamps the creation of new keys.
  private_event_store(event_store& inner, subject_key_store& keys, clock now = {});

  using event_store::append;
  // Throws subject_erased when a write carries personal fields of an erased person.
  append_result append(std::span<const stream_write> writes,
                       const std::optional<idempotency_key>& key) override;
  std::optional<append_result> find_idempotent(const idempotency_key& key) override;
  std::vector<recorded_event> read_stream(std::string_view stream_id, std::int64_t from_version = 1,
                                          std::size_t max = 100'000) override;
  std::int64_t stream_version(std::string_view stream_id) override;
  std::vector<recorded_event> read_all(std::int64_t after_position, std::size_t max) override;
  std::size_t concurrent_reads() override { return inner_.concurrent_reads(); }
  std::int64_t head_position() override;
  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) override;
  // The base class's subscription, which reads through read_all: opened in batches.

  subject_key_store& keys() { return keys_; }
  event_store& stored() { return inner_; }

 private:
  void open(std::vector<recorded_event>& events);

  event_store& inner_;
  subject_key_store& keys_;
  clock now_;
};

}  // namespace realmkit::infra::privacy
